#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A non-blocking stream socket file descriptor with one thin method per system call.
///
/// `Socket` does not close itself: whoever creates the descriptor owns it and calls `close()` on
/// every path (the listener and `Connection` do).
struct Socket: Sendable, Hashable {
    /// The raw file descriptor.
    let fd: Int32

    /// Creates a non-blocking, close-on-exec TCP socket for the given address family.
    static func makeTCP(family: Int32) throws(SocketError) -> Socket {
        let fd = Glibc.socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SocketError.makeFailed("socket") }
        return Socket(fd: fd)
    }

    /// Sets an integer socket option.
    func setOption(level: Int32, name: Int32, value: Int32) throws(SocketError) {
        var value = value
        guard setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw SocketError.makeFailed("setsockopt")
        }
    }

    /// Binds to the given address.
    func bind(_ address: SocketAddress) throws(SocketError) {
        let result = address.withSockAddr { pointer, length in Glibc.bind(fd, pointer, length) }
        guard result == 0 else { throw SocketError.makeFailed("bind") }
    }

    /// Starts listening with the given backlog.
    func listen(backlog: Int32) throws(SocketError) {
        guard Glibc.listen(fd, backlog) == 0 else { throw SocketError.makeFailed("listen") }
    }

    /// The local address the socket is bound to (to read back the port after binding port 0).
    func localAddress() throws(SocketError) -> SocketAddress {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard result == 0 else { throw SocketError.makeFailed("getsockname") }
        return SocketAddress(storage: storage)
    }

    /// Accepts one pending connection as a non-blocking, close-on-exec socket.
    ///
    /// Returns `nil` when no connection is pending (`EAGAIN`), retries `EINTR`, and skips a
    /// connection that was aborted before it was accepted.
    func accept() throws(SocketError) -> (Socket, SocketAddress?)? {
        while true {
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            // `accept4` is not exported by the Glibc module (it needs _GNU_SOURCE), so the flags are
            // set with fcntl; Linux does not let an accepted socket inherit O_NONBLOCK.
            let client = withUnsafeMutablePointer(to: &storage) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.accept(fd, $0, &length) }
            }
            if client >= 0 {
                let socket = Socket(fd: client)
                do throws(SocketError) {
                    try socket.setNonBlockingAndCloseOnExec()
                } catch {
                    socket.close()
                    throw error
                }
                let family = Int32(storage.ss_family)
                return (socket, family == AF_INET || family == AF_INET6 ? SocketAddress(storage: storage) : nil)
            }
            let code = Glibc.errno
            switch IOErrorKind.classify(code) {
            case .interrupted, .peerGone: continue
            case .wouldBlock: return nil
            case .failure: throw SocketError(call: "accept4", errno: code)
            }
        }
    }

    /// Sets `O_NONBLOCK` and `FD_CLOEXEC`.
    func setNonBlockingAndCloseOnExec() throws(SocketError) {
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0, fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 else { throw SocketError.makeFailed("fcntl") }
        guard fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 else { throw SocketError.makeFailed("fcntl") }
    }

    /// Reads up to `buffer.count` bytes.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> IOResult {
        while true {
            let count = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if count > 0 { return .bytes(count) }
            if count == 0 { return .endOfStream }
            let code = Glibc.errno
            switch IOErrorKind.classify(code) {
            case .interrupted: continue
            case .wouldBlock: return .wouldBlock
            case .peerGone: return .peerGone
            case .failure: return .failed(SocketError(call: "read", errno: code))
            }
        }
    }

    /// Sends bytes with `MSG_NOSIGNAL` so that a closed peer is an `EPIPE`, never a `SIGPIPE`.
    func send(_ bytes: UnsafeRawBufferPointer) -> IOResult {
        while true {
            let count = Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
            if count >= 0 { return .bytes(count) }
            let code = Glibc.errno
            switch IOErrorKind.classify(code) {
            case .interrupted: continue
            case .wouldBlock: return .wouldBlock
            case .peerGone: return .peerGone
            case .failure: return .failed(SocketError(call: "send", errno: code))
            }
        }
    }

    /// Shuts down the write side so the peer reads the end of the stream after our last bytes.
    func shutdownWrite() {
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
    }

    /// Closes the descriptor. `EINTR` from `close` is not retried: on Linux the descriptor is gone.
    func close() {
        _ = Glibc.close(fd)
    }
}
