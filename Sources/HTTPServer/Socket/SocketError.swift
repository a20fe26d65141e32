#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A failed socket call: which call failed and the `errno` it left.
public struct SocketError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The name of the system call that failed (`"bind"`, `"accept4"`, …).
    public let call: String
    /// The `errno` value captured right after the call.
    public let errno: Int32

    /// Captures the current `errno` for the named call.
    static func makeFailed(_ call: String) -> SocketError {
        SocketError(call: call, errno: Glibc.errno)
    }

    public var description: String {
        "\(call) failed: \(String(cString: strerror(errno))) (errno \(errno))"
    }
}

/// What an `errno` from a read or write means for the connection (STYLE: classified in one place).
enum IOErrorKind: Equatable, Sendable {
    /// Retry the call now.
    case interrupted
    /// Nothing to do until the socket is ready again.
    case wouldBlock
    /// The peer went away: close quietly, nothing to log loudly.
    case peerGone
    /// Anything else: close and log.
    case failure

    /// Classifies an `errno` left by `read`, `recv`, `send`, `write` or `accept`.
    static func classify(_ code: Int32) -> IOErrorKind {
        switch code {
        case EINTR: return .interrupted
        case EAGAIN, EWOULDBLOCK: return .wouldBlock
        case ECONNRESET, EPIPE, ENOTCONN, ECONNABORTED, ETIMEDOUT, ESHUTDOWN, EHOSTUNREACH, ENETUNREACH:
            return .peerGone
        default: return .failure
        }
    }
}

/// The outcome of one non-blocking read or write.
enum IOResult: Equatable, Sendable {
    /// This many bytes moved.
    case bytes(Int)
    /// The socket is not ready; wait for the next readiness event.
    case wouldBlock
    /// The peer closed its side (a read of 0 bytes).
    case endOfStream
    /// The peer reset or is gone.
    case peerGone
    /// A genuine failure, with its errno.
    case failed(SocketError)
}
