import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import HTTPServer

/// Runs blocking socket work on a thread of its own, so tests never block the cooperative pool
/// nor wait for a Dispatch worker (Linux's global queues are only as wide as the core count).
func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(with: Result { try body() })
        }
    }
}

struct ClientError: Error, CustomStringConvertible {
    var description: String
}

/// A response as read off the wire.
struct WireResponse: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]
    var text: String { String(decoding: body, as: UTF8.self) }
}

/// A blocking TCP client on loopback with a receive timeout, for driving the server byte by byte.
/// Used by one thread at a time (hence `@unchecked Sendable`: it may be handed to another).
final class RawClient: @unchecked Sendable {
    let fd: Int32
    private var buffer: [UInt8] = []

    /// The socket is owned by `self` only once connected: a class whose initializer throws after
    /// every stored property is set runs its `deinit`, so closing it here as well would close the
    /// number twice — by then, perhaps, another test's freshly accepted connection.
    init(port: Int, timeout: Double = 5) throws {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw ClientError(description: "socket failed") }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1_000_000))
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let code = errno
            Glibc.close(socket)
            throw ClientError(description: "connect failed: \(code)")
        }
        fd = socket
    }

    deinit { Glibc.close(fd) }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw ClientError(description: "send failed: \(errno)") }
            offset += sent
        }
    }

    /// Closes with SO_LINGER 0, so the peer sees a TCP reset.
    func reset() {
        var option = linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
        shutdown(fd, Int32(SHUT_RDWR))
    }

    /// Reads more bytes; returns false at end of stream. Throws on timeout.
    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count == 0 { return false }
        if count < 0 {
            if errno == ECONNRESET { return false }
            throw ClientError(description: "recv failed or timed out: errno \(errno)")
        }
        buffer += chunk[0..<count]
        return true
    }

    /// Whether the server closed the connection (reads end of stream within the timeout).
    func readsEndOfStream() throws -> Bool {
        while true {
            if !buffer.isEmpty { return false }
            if try !fill() { return true }
        }
    }

    /// Reads one response; `bodyless` for answers to HEAD.
    func readResponse(bodyless: Bool = false) throws -> WireResponse {
        var headEnd: Int?
        while headEnd == nil {
            if let range = findHeadEnd() { headEnd = range; break }
            guard try fill() else { throw ClientError(description: "closed before a response head; got \(String(decoding: buffer, as: UTF8.self))") }
        }
        let head = String(decoding: buffer[0..<headEnd!], as: UTF8.self)
        buffer.removeFirst(headEnd! + 4)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst()
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0] == "HTTP/1.1", let status = Int(parts[1]) else {
            throw ClientError(description: "bad status line: \(statusLine)")
        }
        var headers = HTTPHeaders()
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { throw ClientError(description: "bad header line: \(line)") }
            headers.add(name: String(line[..<colon]), value: line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        if status < 200 || bodyless || status == 204 || status == 304 {
            return WireResponse(status: status, headers: headers, body: [])
        }
        guard let lengthText = headers["content-length"], let length = Int(lengthText) else {
            throw ClientError(description: "response without Content-Length")
        }
        while buffer.count < length {
            guard try fill() else { throw ClientError(description: "closed inside a body") }
        }
        let body = Array(buffer[0..<length])
        buffer.removeFirst(length)
        return WireResponse(status: status, headers: headers, body: body)
    }

    private func findHeadEnd() -> Int? {
        guard buffer.count >= 4 else { return nil }
        for index in 0...(buffer.count - 4) where buffer[index] == 13 && buffer[index + 1] == 10 && buffer[index + 2] == 13 && buffer[index + 3] == 10 {
            return index
        }
        return nil
    }
}

/// A server on 127.0.0.1 port 0 for one test.
struct TestServer {
    let server: HTTPServer
    let port: Int

    static func start(
        configure: (inout HTTPServer.Configuration) -> Void = { _ in },
        routes: (inout Router) -> Void
    ) throws -> TestServer {
        var configuration = HTTPServer.Configuration(host: "127.0.0.1", port: 0)
        configure(&configuration)
        var router = Router(renderError: jsonErrorRenderer)
        routes(&router)
        let server = HTTPServer(configuration: configuration, handler: router.handler, renderError: jsonErrorRenderer)
        let address = try server.start()
        return TestServer(server: server, port: address.port)
    }
}

/// A renderer in the shape of the gateway's API errors, so tests can check the body.
let jsonErrorRenderer: HTTPErrorRenderer = { error in
    var headers = error.headers
    headers.add(name: "Content-Type", value: "application/json")
    return HTTPResponse(status: error.status, headers: headers, body: "{\"error\":{\"code\":\"\(error.code)\",\"message\":\"\(error.message)\"}}")
}
