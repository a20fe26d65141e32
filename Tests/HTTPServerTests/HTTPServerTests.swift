import Foundation
import Synchronization
import Testing
@testable import HTTPServer

@Suite("HTTPServer over real sockets")
struct HTTPServerTests {
    static func echoRoutes(_ router: inout Router) {
        router.add("GET", "/hello") { _ in HTTPResponse(status: 200, headers: ["Content-Type": "application/json"], body: "{\"status\":\"ok\"}") }
        router.add("GET", "/items/{id}") { request in HTTPResponse(status: 200, body: request.pathParameters["id"] ?? "-") }
        router.add("POST", "/echo") { request in HTTPResponse(status: 200, body: request.body) }
        router.add("GET", "/slow/{ms}") { request in
            let ms = Int(request.pathParameters["ms"] ?? "0") ?? 0
            try? await Task.sleep(for: .milliseconds(ms))
            return HTTPResponse(status: 200, body: "slept \(ms)")
        }
        router.add("GET", "/order/{n}") { request in
            // Later requests finish sooner: the order of answers must still be the order of requests.
            let n = Int(request.pathParameters["n"] ?? "0") ?? 0
            try? await Task.sleep(for: .microseconds((100 - n % 100) * 20))
            return HTTPResponse(status: 200, body: "\(n)")
        }
        router.add("GET", "/bad-header") { _ in HTTPResponse(status: 200, headers: ["X-Evil": "a\r\nSet-Cookie: x"], body: "no") }
    }

    @Test func server_KeepAliveReusesTheConnection() async throws {
        let test = try TestServer.start(routes: Self.echoRoutes)
        defer { Task { await test.server.shutdown() } }
        let statuses = try await blocking {
            let client = try RawClient(port: test.port)
            var statuses: [Int] = []
            for _ in 0..<3 {
                try client.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
                let response = try client.readResponse()
                statuses.append(response.status)
                #expect(response.text == "{\"status\":\"ok\"}")
                #expect(response.headers["content-length"] == "15")
                #expect(response.headers["date"]?.hasSuffix(" GMT") == true)
                #expect(response.headers["connection"] == nil)
                // Still the one connection that was opened.
                #expect(test.server.openConnectionCount == 1)
            }
            return statuses
        }
        #expect(statuses == [200, 200, 200])
    }

    @Test func server_PipelinedBurstAnsweredInOrder() async throws {
        let test = try TestServer.start(routes: Self.echoRoutes)
        defer { Task { await test.server.shutdown() } }
        let bodies = try await blocking {
            let client = try RawClient(port: test.port)
            try client.send((0..<100).map { "GET /order/\($0) HTTP/1.1\r\nHost: t\r\n\r\n" }.joined())
            return try (0..<100).map { _ in try client.readResponse().text }
        }
        #expect(bodies == (0..<100).map(String.init))
    }

    /// Handlers that answer without suspending are run inline on the loop: a long burst of them
    /// must still come back in order, each once, and mixed with handlers that do suspend.
    @Test func server_PipelinedBurstOfInlineAndSuspendingHandlersAnsweredInOrder() async throws {
        let test = try TestServer.start(routes: Self.echoRoutes)
        defer { Task { await test.server.shutdown() } }
        let count = 1000
        let texts = try await blocking {
            let client = try RawClient(port: test.port)
            try client.send((0..<count).map { $0 % 10 == 0 ? "GET /order/\($0) HTTP/1.1\r\nHost: t\r\n\r\n" : "GET /items/\($0) HTTP/1.1\r\nHost: t\r\n\r\n" }.joined())
            return try (0..<count).map { _ in try client.readResponse().text }
        }
        #expect(texts == (0..<count).map(String.init))
    }

    @Test func server_ChunkedUpload() async throws {
        let test = try TestServer.start(routes: Self.echoRoutes)
        defer { Task { await test.server.shutdown() } }
        let response = try await blocking {
            let client = try RawClient(port: test.port)
            try client.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
            try client.send("6;ext=1\r\nhello \r\n")
            try client.send("5\r\nworld\r\n0\r\nX-Trailer: yes\r\n\r\n")
            return try client.readResponse()
        }
        #expect(response.status == 200)
        #expect(response.text == "hello world")
    }

    @Test func server_ExpectContinueGetsAnInterimAnswerBeforeTheBody() async throws {
        let test = try TestServer.start(routes: Self.echoRoutes)
        defer { Task { await test.server.shutdown() } }
        let (interim, final) = try await blocking {
            let client = try RawClient(port: test.port)
            try client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
            let interim = try client.readResponse()
            try client.send("ping")
            return (interim, try client.readResponse())
        }
        #expect(interim.status == 100)
        #expect(final.status == 200)
        #expect(final.text == "ping")
    }

    @Test func server_StalledHalfHeadGets408() async throws {
        let test = try TestServer.start(configure: { $0.headerTimeout = .milliseconds(300) }, routes: Self.echoRoutes)
        defer { Task { await test.server.shutdown() } }
        let started = ContinuousClock.now
        let (response, closed) = try await blocking {
            let client = try RawClient(port: test.port)
            try client.send("GET /hello HTTP/1.1\r\nHost: t\r\nX-Half")
            let response = try client.readResponse()
            return (response, try client.readsEndOfStream())
        }
        let waited = ContinuousClock.now - started
        #expect(response.status == 408)
        #expect(response.text.contains("request_timeout"))
        #expect(response.headers["connection"] == "close")
        #expect(closed)
        #expect(waited >= .milliseconds(250))
    }

    @Test func server_IdleKeepAliveConnectionIsClosedAfterIdleTimeout() async throws {
        let test = try TestServer.start(configure: { $0.idleTimeout = .milliseconds(300) }, routes: Self.echoRoutes)
        defer { Task { await test.server.shutdown() } }
        let closed = try await blocking {
            let client = try RawClient(port: test.port)
            try client.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
            _ = try client.readResponse()
            return try client.readsEndOfStream()
        }
        #expect(closed)
    }

    @Test func server_ResetMidRequestDoesNotDisturbOthers() async throws {
        let test = try TestServer.start(routes: Self.echoRoutes)
        defer { Task { await test.server.shutdown() } }
        let response = try await blocking {
            let healthy = try RawClient(port: test.port)
            try healthy.send("GET /slow/200 HTTP/1.1\r\nHost: t\r\n\r\n")
            for _ in 0..<20 {
                let rude = try RawClient(port: test.port)
                try rude.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nhalf")
                rude.reset()
            }
            return try healthy.readResponse()
        }
        #expect(response.status == 200)
        #expect(response.text == "slept 200")
        // Every reset connection was closed and released.
        try await Task.sleep(for: .milliseconds(100))
        #expect(test.server.openConnectionCount <= 1)
    }

    /// The echo routes plus `/counted-slow/{ms}`, which counts its running handlers: a shutdown
    /// test must begin while its handler runs, and on a loaded machine no fixed sleep says when.
    final class RunningHandlers: Sendable {
        private let count = Mutex(0)
        var value: Int { count.withLock { $0 } }

        func routes(_ router: inout Router) {
            HTTPServerTests.echoRoutes(&router)
            router.add("GET", "/counted-slow/{ms}") { [self] request in
                count.withLock { $0 += 1 }
                defer { count.withLock { $0 -= 1 } }
                let ms = Int(request.pathParameters["ms"] ?? "0") ?? 0
                try? await Task.sleep(for: .milliseconds(ms))
                return HTTPResponse(status: 200, body: "slept \(ms)")
            }
        }

        /// Waits (at most 5 s) until `count` handlers run.
        func wait(for count: Int) async -> Bool {
            let deadline = ContinuousClock.now + .seconds(5)
            while value != count, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(5)) }
            return value == count
        }
    }

    /// `afterResponse` runs once per answer, after its bytes went out — for a handler that answers
    /// inline and for one that suspends — and still runs when the client left before the answer.
    @Test(arguments: ["/inline", "/suspending"])
    func server_AfterResponseRunsOnceTheAnswerIsSent(path: String) async throws {
        let hooks = AfterResponseHooks()
        let test = try TestServer.start(routes: hooks.routes)
        defer { Task { await test.server.shutdown() } }
        let status = try await blocking {
            let client = try RawClient(port: test.port)
            try client.send("GET \(path) HTTP/1.1\r\nHost: t\r\n\r\n")
            // The hook blocks until this read is done: had it run before the send, the read would
            // time out first.
            let response = try client.readResponse()
            hooks.clientHasTheAnswer.signal()
            return response.status
        }
        #expect(status == 200)
        #expect(await hooks.waitForRuns(1))
        #expect(hooks.runs == [true])
    }

    @Test func server_AfterResponseRunsWhenTheClientLeftFirst() async throws {
        let hooks = AfterResponseHooks()
        let test = try TestServer.start(routes: hooks.routes)
        defer { Task { await test.server.shutdown() } }
        try await blocking {
            let client = try RawClient(port: test.port)
            try client.send("GET /slow-then-hook HTTP/1.1\r\nHost: t\r\n\r\n")
        }  // closed here, before the handler answers
        #expect(await hooks.waitForRuns(1))
        #expect(hooks.runs.count == 1)
    }

    @Test func server_ShutdownDrainsAnInFlightSlowHandler() async throws {
        let running = RunningHandlers()
        let test = try TestServer.start(configure: { $0.shutdownGrace = .seconds(5) }, routes: running.routes)
        let client = try await blocking {
            let client = try RawClient(port: test.port)
            try client.send("GET /counted-slow/1500 HTTP/1.1\r\nHost: t\r\n\r\n")
            return client
        }
        let responseTask = Task {
            try await blocking { (try client.readResponse(), try client.readsEndOfStream()) }
        }
        #expect(await running.wait(for: 1))
        let idle = try await blocking { try RawClient(port: test.port) }  // an idle connection is closed at once
        try await Task.sleep(for: .milliseconds(50))
        await test.server.shutdown()
        let (response, closed) = try await responseTask.value
        #expect(response.status == 200)
        #expect(response.text == "slept 1500")
        #expect(response.headers["connection"] == "close")
        #expect(closed)
        #expect(try await blocking { try idle.readsEndOfStream() })
        #expect(test.server.openConnectionCount == 0)
        // No longer accepting.
        #expect(throws: (any Error).self) { _ = try RawClient(port: test.port) }
    }

    @Test func server_ShutdownClosesWhatIsLeftAfterTheGracePeriod() async throws {
        let running = RunningHandlers()
        let test = try TestServer.start(configure: { $0.shutdownGrace = .milliseconds(200) }, routes: running.routes)
        let client = try await blocking {
            let client = try RawClient(port: test.port)
            try client.send("GET /counted-slow/5000 HTTP/1.1\r\nHost: t\r\n\r\n")
            return client
        }
        let waiting = Task { try await blocking { try client.readsEndOfStream() } }
        #expect(await running.wait(for: 1))
        let started = ContinuousClock.now
        await test.server.shutdown()
        #expect(ContinuousClock.now - started < .seconds(2))
        #expect(try await waiting.value)
        // The cancelled handler has returned.
        #expect(await running.wait(for: 0))
    }

    static let limitCases: [(String, String, Int, String)] = [
        ("414", "GET /" + String(repeating: "a", count: 9000) + " HTTP/1.1\r\nHost: t\r\n\r\n", 414, "uri_too_long"),
        ("431 bytes", "GET /hello HTTP/1.1\r\nHost: t\r\nX-Big: " + String(repeating: "b", count: 70_000) + "\r\n\r\n", 431, "headers_too_large"),
        ("431 count", "GET /hello HTTP/1.1\r\nHost: t\r\n" + (0..<101).map { "X-\($0): v\r\n" }.joined() + "\r\n", 431, "headers_too_large"),
        ("413", "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2000000\r\n\r\n", 413, "body_too_large"),
        ("400 CL+TE", "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, "bad_request"),
        ("400 obs-fold", "GET /hello HTTP/1.1\r\nHost: t\r\nX: a\r\n b\r\n\r\n", 400, "bad_request"),
    ]

    @Test("limits and framing errors answer with the rendered error and close", arguments: limitCases)
    func server_LimitsAnswerWithErrorBodyAndClose(name: String, request: String, status: Int, code: String) async throws {
        let test = try TestServer.start(routes: Self.echoRoutes)
        defer { Task { await test.server.shutdown() } }
        let (response, closed) = try await blocking {
            let client = try RawClient(port: test.port)
            try client.send(request)
            let response = try client.readResponse()
            return (response, try client.readsEndOfStream())
        }
        #expect(response.status == status, "\(name)")
        #expect(response.text.contains("\"code\":\"\(code)\""), "\(name)")
        #expect(response.headers["content-type"] == "application/json")
        #expect(response.headers["connection"] == "close")
        #expect(closed, "\(name)")
    }

    @Test func server_NotFoundAndMethodNotAllowedWithAllow() async throws {
        let test = try TestServer.start(routes: Self.echoRoutes)
        defer { Task { await test.server.shutdown() } }
        let (missing, wrongMethod, head) = try await blocking {
            let client = try RawClient(port: test.port)
            try client.send("GET /nope HTTP/1.1\r\nHost: t\r\n\r\nDELETE /hello HTTP/1.1\r\nHost: t\r\n\r\nHEAD /hello HTTP/1.1\r\nHost: t\r\n\r\n")
            return (try client.readResponse(), try client.readResponse(), try client.readResponse(bodyless: true))
        }
        #expect(missing.status == 404)
        #expect(missing.text.contains("not_found"))
        #expect(wrongMethod.status == 405)
        #expect(wrongMethod.headers["allow"] == "GET, HEAD")
        #expect(head.status == 200)
        #expect(head.headers["content-length"] == "15")
    }

    @Test func server_PathParametersAreDecoded() async throws {
        let test = try TestServer.start(routes: Self.echoRoutes)
        defer { Task { await test.server.shutdown() } }
        let response = try await blocking {
            let client = try RawClient(port: test.port)
            try client.send("GET /items/gen%5F01 HTTP/1.1\r\nHost: t\r\n\r\n")
            return try client.readResponse()
        }
        #expect(response.text == "gen_01")
    }

    @Test func server_OverMaxConnectionsGets503AndClose() async throws {
        let test = try TestServer.start(configure: { $0.maxConnections = 2 }, routes: Self.echoRoutes)
        defer { Task { await test.server.shutdown() } }
        let (third, firstStillWorks) = try await blocking {
            let first = try RawClient(port: test.port)
            let second = try RawClient(port: test.port)
            try first.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
            try second.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
            _ = try first.readResponse(); _ = try second.readResponse()
            let third = try RawClient(port: test.port)
            let refused = try third.readResponse()
            #expect(try third.readsEndOfStream())
            try first.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
            return (refused, try first.readResponse().status)
        }
        #expect(third.status == 503)
        #expect(third.text.contains("server_overloaded"))
        #expect(firstStillWorks == 200)
    }

    @Test func server_HTTP10ClosesByDefault() async throws {
        let test = try TestServer.start(routes: Self.echoRoutes)
        defer { Task { await test.server.shutdown() } }
        let (response, closed) = try await blocking {
            let client = try RawClient(port: test.port)
            try client.send("GET /hello HTTP/1.0\r\n\r\n")
            let response = try client.readResponse()
            return (response, try client.readsEndOfStream())
        }
        #expect(response.status == 200)
        #expect(response.headers["connection"] == "close")
        #expect(closed)
    }

    @Test func server_ResponseHeaderWithCRLFBecomes500() async throws {
        let test = try TestServer.start(routes: Self.echoRoutes)
        defer { Task { await test.server.shutdown() } }
        let response = try await blocking {
            let client = try RawClient(port: test.port)
            try client.send("GET /bad-header HTTP/1.1\r\nHost: t\r\n\r\n")
            return try client.readResponse()
        }
        #expect(response.status == 500)
        #expect(response.headers["set-cookie"] == nil)
        #expect(response.headers["x-evil"] == nil)
    }

    @Test func server_BindsIPv6Loopback() async throws {
        var configuration = HTTPServer.Configuration(host: "::1", port: 0)
        configuration.eventLoopCount = 1
        let server = HTTPServer(configuration: configuration, handler: { _ in HTTPResponse(status: 200) })
        let address = try server.start()
        #expect(address.description.hasPrefix("[::1]:"))
        #expect(address.port > 0)
        await server.shutdown()
    }
}

/// Routes whose answers carry an `afterResponse` hook, and what the hooks saw.
final class AfterResponseHooks: Sendable {
    /// Signalled by the test once its client has read the answer.
    let clientHasTheAnswer = DispatchSemaphore(value: 0)
    private let recorded = Mutex<[Bool]>([])

    /// Per hook run: whether the client had the answer before the hook stopped waiting for it.
    var runs: [Bool] { recorded.withLock { $0 } }

    func routes(_ router: inout Router) {
        router.add("GET", "/inline") { [self] _ in waitingAnswer() }
        router.add("GET", "/suspending") { [self] _ in
            try? await Task.sleep(for: .milliseconds(10))
            return waitingAnswer()
        }
        router.add("GET", "/slow-then-hook") { [self] _ in
            try? await Task.sleep(for: .milliseconds(200))
            var response = HTTPResponse(status: 200, body: "late")
            response.afterResponse = { [self] in recorded.withLock { $0.append(false) } }
            return response
        }
    }

    private func waitingAnswer() -> HTTPResponse {
        var response = HTTPResponse(status: 200, body: "ok")
        response.afterResponse = { [self] in
            let delivered = clientHasTheAnswer.wait(timeout: .now() + 5) == .success
            recorded.withLock { $0.append(delivered) }
        }
        return response
    }

    /// Waits up to 5 s for `count` hook runs.
    func waitForRuns(_ count: Int) async -> Bool {
        for _ in 0..<500 {
            if runs.count >= count { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return false
    }
}
