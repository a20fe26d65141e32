#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import HTTPServer

@Suite("Socket errors")
struct SocketErrorTests {
    @Test func classify_MapsErrnoToWhatTheConnectionDoes() {
        #expect(IOErrorKind.classify(EINTR) == .interrupted)
        #expect(IOErrorKind.classify(EAGAIN) == .wouldBlock)
        #expect(IOErrorKind.classify(EWOULDBLOCK) == .wouldBlock)
        #expect(IOErrorKind.classify(ECONNRESET) == .peerGone)
        #expect(IOErrorKind.classify(EPIPE) == .peerGone)
        #expect(IOErrorKind.classify(ENOTCONN) == .peerGone)
        #expect(IOErrorKind.classify(EBADF) == .failure)
        #expect(IOErrorKind.classify(ENOMEM) == .failure)
    }

    @Test func address_ParsesNumericHostsOnly() {
        #expect(SocketAddress(host: "127.0.0.1", port: 80)?.description == "127.0.0.1:80")
        #expect(SocketAddress(host: "[::1]", port: 8080)?.description == "[::1]:8080")
        #expect(SocketAddress(host: "localhost", port: 1)?.host == "127.0.0.1")
        #expect(SocketAddress(host: "example.com", port: 80) == nil)
        #expect(SocketAddress(host: "127.0.0.1", port: 70000) == nil)
    }

    @Test func bind_ReportsAddressInUse() throws {
        let first = HTTPServer(configuration: .init(host: "127.0.0.1", port: 0), handler: { _ in HTTPResponse(status: 200) })
        let address = try first.start()
        let second = HTTPServer(configuration: .init(host: "127.0.0.1", port: address.port), handler: { _ in HTTPResponse(status: 200) })
        #expect(throws: SocketError(call: "bind", errno: EADDRINUSE)) { try second.start() }
    }
}
