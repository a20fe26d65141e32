import HTTPServer
import Testing
@testable import ProviderSimulators

@Suite("LoopbackHTTPClient", .timeLimit(.minutes(1)))
struct LoopbackHTTPClientTests {
    @Test func target_ParsesLoopbackURLs() throws {
        #expect(try LoopbackHTTPClient.Target(url: "http://127.0.0.1:8080/a/b?c=d") == .init(host: "127.0.0.1", port: 8080, path: "/a/b?c=d"))
        #expect(try LoopbackHTTPClient.Target(url: "http://localhost") == .init(host: "127.0.0.1", port: 80, path: "/"))
        #expect(try LoopbackHTTPClient.Target(url: "http://[::1]:9000?x") == .init(host: "::1", port: 9000, path: "/?x"))
        #expect(try LoopbackHTTPClient.Target(url: "HTTP://127.1.2.3:1/#frag") == .init(host: "127.1.2.3", port: 1, path: "/"))
    }

    @Test(arguments: [
        "https://127.0.0.1/x", "http://example.com/x", "http://10.0.0.1/x", "http://user@127.0.0.1/x",
        "http://127.0.0.1:0/x", "http://127.0.0.1:70000/x", "http://127.0.0.1.evil.com/x", "ftp://127.0.0.1/",
    ])
    func target_RefusesAnythingButHTTPToLoopback(url: String) {
        #expect(throws: LoopbackHTTPClient.Failure.self) { try LoopbackHTTPClient.Target(url: url) }
    }

    @Test func parseHead_NeedsTheWholeHeadAndReadsContentLength() throws {
        #expect(try LoopbackHTTPClient.parseHead(Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n".utf8)) == nil)
        let head = try #require(try LoopbackHTTPClient.parseHead(Array("HTTP/1.1 204 No Content\r\nX-A: b\r\nContent-Length: 0\r\n\r\nrest".utf8)))
        #expect(head.status == 204 && head.headers["x-a"] == "b" && head.length == 0 && head.bodyStart == 54)
        #expect(throws: LoopbackHTTPClient.Failure.self) { try LoopbackHTTPClient.parseHead(Array("SPDY 200\r\n\r\n".utf8)) }
    }

    @Test func send_PostsBodyAndReadsAnswer() async throws {
        var router = Router()
        router.add("POST", "/echo") { request in
            HTTPResponse(status: 201, headers: ["X-Method": request.method], body: request.body + Array((request.headers["connection"] ?? "").utf8))
        }
        let server = HTTPServer(configuration: .init(host: "127.0.0.1", port: 0), handler: router.handler)
        let port = try server.start().port
        let response = try await blocking {
            try LoopbackHTTPClient.send(method: "POST", url: "http://127.0.0.1:\(port)/echo", body: Array("hi|".utf8), timeout: .seconds(2))
        }
        await server.shutdown()
        #expect(response.status == 201)
        #expect(response.headers["x-method"] == "POST")
        #expect(String(decoding: response.body, as: UTF8.self) == "hi|close")
    }

    @Test func send_RefusedConnectionIsAFailure() async throws {
        await #expect(throws: LoopbackHTTPClient.Failure.self) {
            try await blocking { try LoopbackHTTPClient.send(method: "POST", url: "http://127.0.0.1:9/x", timeout: .seconds(1)) }
        }
    }
}
