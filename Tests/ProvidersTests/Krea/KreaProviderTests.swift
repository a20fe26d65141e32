import AsyncHTTPClient
import GatewayCore
import HTTPServer
@testable import Providers
import Testing

/// The Krea adapter over real sockets against a fake Krea (`FakeUpstream`).
@Suite struct KreaProviderTests {
    static let jobID = "5f0c1a52-3b7e-4d4a-9e1f-0a2b3c4d5e6f"

    static func provider(_ upstream: FakeUpstream, _ client: HTTPClient, timeout: Duration = .seconds(5)) -> KreaProvider {
        KreaProvider(name: "krea", configuration: providerConfiguration(.krea, baseURL: upstream.baseURL, timeout: timeout), client: client)
    }

    static func submit(_ provider: KreaProvider, callbackURL: String? = nil) async throws(ProviderError) -> ProviderJobSnapshot {
        try await provider.submit(GenerationRequest(model: "krea-2-medium", prompt: "a red fox"), upstreamModel: "krea-2/medium", callbackURL: callbackURL)
    }

    @Test func submit_SendsTheTranslatedRequestAndReadsTheJob() async throws {
        let queued = try Fixture.krea("job_queued")
        try await withUpstream({ router in
            router.add("POST", "/generate/image/krea/krea-2/medium") { _ in json(200, queued) }
        }) { client, upstream in
            var request = GenerationRequest(model: "krea-2-medium", prompt: "a red fox")
            request.imageStyleReferences = [.init(url: "https://example.com/a.png")]
            request.seed = 7
            let snapshot = try await Self.provider(upstream, client)
                .submit(request, upstreamModel: "krea-2/medium", callbackURL: "https://gw.example.com/callbacks/gen_1/tok")
            #expect(snapshot == ProviderJobSnapshot(providerJobID: Self.jobID, status: .queued, providerStatus: "queued"))

            #expect(upstream.received.count == 1)
            let received = try #require(upstream.received.first)
            #expect(received.method == "POST")
            #expect(received.path == "/generate/image/krea/krea-2/medium")
            #expect(received.headers["Authorization"] == "Bearer \(testAPIKey)")
            #expect(received.headers["X-Webhook-URL"] == "https://gw.example.com/callbacks/gen_1/tok")
            #expect(received.headers["Content-Type"] == "application/json")
            #expect(String(decoding: received.body, as: UTF8.self) == """
                {"prompt":"a red fox","aspect_ratio":"1:1","resolution":"1K","seed":7,\
                "image_style_references":[{"url":"https://example.com/a.png","strength":0.5}]}
                """)
        }
    }

    @Test func submit_WithoutCallbackSendsNoWebhookHeader() async throws {
        let queued = try Fixture.krea("job_backlogged")
        try await withUpstream({ router in
            router.add("POST", "/generate/image/krea/krea-2/large") { _ in json(200, queued) }
        }) { client, upstream in
            let snapshot = try await Self.provider(upstream, client)
                .submit(GenerationRequest(model: "krea-2-large", prompt: "p"), upstreamModel: "krea-2/large", callbackURL: nil)
            #expect(snapshot.status == .queued)
            #expect(snapshot.providerStatus == "backlogged")
            #expect(upstream.received.first?.headers["X-Webhook-URL"] == nil)
        }
    }

    /// The parsed request of a `POST` path is reused: every call still sends its own body and
    /// headers, nothing of the call before.
    @Test func submit_RepeatedToOnePathSendsEachCallsOwnBodyAndHeaders() async throws {
        let queued = try Fixture.krea("job_queued")
        try await withUpstream({ router in
            router.add("POST", "/generate/image/krea/krea-2/medium") { _ in json(200, queued) }
        }) { client, upstream in
            let provider = Self.provider(upstream, client)
            for (index, callback) in ["https://gw.example.com/cb/1", nil, "https://gw.example.com/cb/3"].enumerated() {
                _ = try await provider.submit(
                    GenerationRequest(model: "krea-2-medium", prompt: "prompt \(index)"), upstreamModel: "krea-2/medium", callbackURL: callback)
            }
            let received = upstream.received
            #expect(received.count == 3)
            #expect(received.map { $0.headers["X-Webhook-URL"] } == ["https://gw.example.com/cb/1", nil, "https://gw.example.com/cb/3"])
            #expect(received.map { String(decoding: $0.body, as: UTF8.self) } == (0..<3).map {
                #"{"prompt":"prompt \#($0)","aspect_ratio":"1:1","resolution":"1K"}"#
            })
            #expect(received.allSatisfy { $0.headers["Authorization"] == "Bearer \(testAPIKey)" && $0.headers["Content-Type"] == "application/json" })
            #expect(received.allSatisfy { $0.headers["Content-Length"] == String($0.body.count) })
        }
    }

    @Test func fetch_ReadsTheJob() async throws {
        let completed = try Fixture.krea("job_completed")
        try await withUpstream({ router in
            router.add("GET", "/jobs/{id}") { request in
                request.pathParameters["id"] == Self.jobID ? json(200, completed) : json(404, #"{"error":"Job not found"}"#)
            }
        }) { client, upstream in
            let provider = Self.provider(upstream, client)
            let snapshot = try await provider.fetch(providerJobID: Self.jobID, upstreamModel: "krea-2/medium")
            #expect(snapshot.status == .completed)
            #expect(snapshot.resultURLs == ["https://gen.krea.ai/images/9b2e4f10-1c3d-4e5f-8a9b-0c1d2e3f4a5b.png"])
            let received = try #require(upstream.received.first)
            #expect(received.method == "GET")
            #expect(received.path == "/jobs/\(Self.jobID)")
            #expect(received.headers["Authorization"] == "Bearer \(testAPIKey)")
            #expect(received.body.isEmpty)

            let missing = await providerError { () async throws(ProviderError) in
                try await provider.fetch(providerJobID: "00000000-0000-0000-0000-000000000000", upstreamModel: "krea-2/medium")
            }
            #expect(missing?.kind == .notFound)
            #expect(missing?.httpStatus == 404)
        }
    }

    @Test func fetch_InvalidJobIDIsNotFoundWithoutACall() async throws {
        try await withUpstream({ _ in }) { client, upstream in
            let error = await providerError { () async throws(ProviderError) in
                try await Self.provider(upstream, client).fetch(providerJobID: "../generate/image/krea/krea-2/large", upstreamModel: "krea-2/medium")
            }
            #expect(error?.kind == .notFound)
            #expect(upstream.received.isEmpty)
        }
    }

    @Test func fetch_AnswerAboutAnotherJobIsInvalid() async throws {
        let completed = try Fixture.krea("job_completed")
        try await withUpstream({ router in
            router.add("GET", "/jobs/{id}") { _ in json(200, completed) }
        }) { client, upstream in
            let error = await providerError { () async throws(ProviderError) in
                try await Self.provider(upstream, client).fetch(providerJobID: "another-job", upstreamModel: "krea-2/medium")
            }
            #expect(error?.kind == .invalidResponse)
        }
    }

    @Test func cancel_ReturnsTheCancelledJob() async throws {
        let cancelled = try Fixture.krea("job_cancelled")
        try await withUpstream({ router in
            router.add("DELETE", "/jobs/{id}") { _ in json(200, cancelled) }
        }) { client, upstream in
            let snapshot = try await Self.provider(upstream, client).cancel(providerJobID: Self.jobID, upstreamModel: "krea-2/medium")
            #expect(snapshot.status == .cancelled)
            #expect(upstream.received.map(\.method) == ["DELETE"])
            #expect(upstream.received.first?.path == "/jobs/\(Self.jobID)")
        }
    }

    @Test func cancel_WithoutAJobInTheAnswerReadsItBack() async throws {
        let cancelled = try Fixture.krea("job_cancelled")
        try await withUpstream({ router in
            router.add("DELETE", "/jobs/{id}") { _ in HTTPResponse(status: 200) }
            router.add("GET", "/jobs/{id}") { _ in json(200, cancelled) }
        }) { client, upstream in
            let snapshot = try await Self.provider(upstream, client).cancel(providerJobID: Self.jobID, upstreamModel: "krea-2/medium")
            #expect(snapshot.status == .cancelled)
            #expect(upstream.received.map(\.method) == ["DELETE", "GET"])
        }
    }

    @Test func cancel_TerminalJobIsNotCancellable() async throws {
        let conflict = try Fixture.krea("error_409_cancel")
        try await withUpstream({ router in
            router.add("DELETE", "/jobs/{id}") { _ in json(409, conflict) }
        }) { client, upstream in
            let error = await providerError { () async throws(ProviderError) in
                try await Self.provider(upstream, client).cancel(providerJobID: Self.jobID, upstreamModel: "krea-2/medium")
            }
            #expect(error?.kind == .notCancellable)
            #expect(error?.apiError(provider: "krea").status == 409)
        }
    }

    @Test(arguments: [("12", 12), (nil, 5)] as [(String?, Int)])
    func submit_429IsRateLimitedWithRetryAfter(retryAfter: String?, expected: Int) async throws {
        let body = try Fixture.krea("error_429_message")
        try await withUpstream({ router in
            router.add("POST", "/generate/image/krea/krea-2/medium") { _ in
                json(429, body, headers: retryAfter.map { ["Retry-After": $0] } ?? [:])
            }
        }) { client, upstream in
            let error = await providerError { () async throws(ProviderError) in try await Self.submit(Self.provider(upstream, client)) }
            #expect(error?.kind == .rateLimited)
            #expect(error?.retryAfterSeconds == expected)
            #expect(error?.allowsFallback == true)
        }
    }

    @Test(arguments: [
        (500, "error_500", ProviderError.Kind.serverError),
        (402, "error_402", .balanceExhausted),
        (400, "error_400_content_policy", .contentPolicy),
        (422, "error_422_detail", .rejectedRequest),
    ])
    func submit_ErrorStatuses(status: Int, fixture: String, kind: ProviderError.Kind) async throws {
        let body = try Fixture.krea(fixture)
        try await withUpstream({ router in
            router.add("POST", "/generate/image/krea/krea-2/medium") { _ in json(status, body) }
        }) { client, upstream in
            let error = await providerError { () async throws(ProviderError) in try await Self.submit(Self.provider(upstream, client)) }
            #expect(error?.kind == kind)
            #expect(error?.httpStatus == status)
        }
    }

    @Test func submit_401NeverLeaksTheKey() async throws {
        try await withUpstream({ router in
            router.add("POST", "/generate/image/krea/krea-2/medium") { request in
                // A provider that echoes the token back.
                json(401, #"{"error":"invalid token \#(request.headers["Authorization"] ?? "")"}"#)
            }
        }) { client, upstream in
            let error = try #require(await providerError { () async throws(ProviderError) in try await Self.submit(Self.provider(upstream, client)) })
            #expect(error.kind == .authentication)
            #expect(error.message == "krea: invalid token Bearer <redacted>")
            #expect(!String(describing: error).contains(testAPIKey))
        }
    }

    @Test func submit_NonJSONSuccessIsInvalidResponse() async throws {
        try await withUpstream({ router in
            router.add("POST", "/generate/image/krea/krea-2/medium") { _ in HTTPResponse(status: 200, body: "<html>ok</html>") }
        }) { client, upstream in
            let error = await providerError { () async throws(ProviderError) in try await Self.submit(Self.provider(upstream, client)) }
            #expect(error?.kind == .invalidResponse)
            #expect(error?.httpStatus == 200)
            #expect(error?.jobMayExist == true)
            #expect(error?.allowsFallback == false)
        }
    }

    @Test func submit_OversizedAnswerIsCapped() async throws {
        let huge = [UInt8](repeating: UInt8(ascii: " "), count: HTTPTransport.maxBodyBytes + 1)
        try await withUpstream({ router in
            router.add("POST", "/generate/image/krea/krea-2/medium") { _ in json(200, huge) }
            router.add("POST", "/generate/image/krea/krea-2/large") { _ in json(429, huge) }
        }) { client, upstream in
            let provider = Self.provider(upstream, client)
            let success = await providerError { () async throws(ProviderError) in try await Self.submit(provider) }
            #expect(success?.kind == .invalidResponse)
            let limited = await providerError { () async throws(ProviderError) in
                try await provider.submit(GenerationRequest(model: "m", prompt: "p"), upstreamModel: "krea-2/large", callbackURL: nil)
            }
            #expect(limited?.kind == .rateLimited)
        }
    }

    @Test func submit_NoAnswerWithinTheTimeoutIsTimeout() async throws {
        try await withUpstream({ router in
            router.add("POST", "/generate/image/krea/krea-2/medium") { _ in
                try? await Task.sleep(for: .seconds(3))
                return json(200, "{}")
            }
        }) { client, upstream in
            let start = ContinuousClock.now
            let error = await providerError { () async throws(ProviderError) in
                try await Self.submit(Self.provider(upstream, client, timeout: .milliseconds(300)))
            }
            let elapsed = ContinuousClock.now - start
            #expect(error?.kind == .timeout)
            #expect(error?.message == "no answer from provider krea within 0.3 s")
            #expect(error?.apiError(provider: "krea").status == 504)
            #expect(elapsed >= .milliseconds(250) && elapsed < .seconds(2))
            #expect(upstream.received.count == 1)
        }
    }

    @Test func submit_ClosedPortIsConnectionFailed() async throws {
        let closedPort = try ClosedPort()
        let baseURL = closedPort.baseURL
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let provider = KreaProvider(name: "krea", configuration: providerConfiguration(.krea, baseURL: baseURL, timeout: .milliseconds(300)), client: client)
        let error = await providerError { () async throws(ProviderError) in try await Self.submit(provider) }
        try await client.shutdown()
        withExtendedLifetime(closedPort) {}
        #expect(error?.kind == .connectionFailed)
        #expect(error?.allowsFallback == true)
        #expect(error?.jobMayExist == false)
        #expect(error?.message == "could not reach provider krea (connection refused)")
    }

    // With ProviderRegistry.clientConfiguration a refused connection fails at once instead of
    // being retried until the deadline.
    @Test func submit_ClosedPortFailsFastWithTheRecommendedClient() async throws {
        let closedPort = try ClosedPort()
        let baseURL = closedPort.baseURL
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: ProviderRegistry.clientConfiguration)
        let provider = KreaProvider(name: "krea", configuration: providerConfiguration(.krea, baseURL: baseURL, timeout: .seconds(10)), client: client)
        let start = ContinuousClock.now
        let error = await providerError { () async throws(ProviderError) in try await Self.submit(provider) }
        let elapsed = ContinuousClock.now - start
        try await client.shutdown()
        withExtendedLifetime(closedPort) {}
        #expect(error?.kind == .connectionFailed)
        #expect(elapsed < .seconds(2))
    }

    // With ProviderRegistry.clientConfiguration a redirect is not followed.
    @Test func submit_RedirectIsInvalidResponseWithTheRecommendedClient() async throws {
        try await withUpstream({ router in
            router.add("POST", "/generate/image/krea/krea-2/medium") { _ in
                HTTPResponse(status: 307, headers: ["Location": "http://127.0.0.1:1/elsewhere"])
            }
        }) { _, upstream in
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: ProviderRegistry.clientConfiguration)
            let error = await providerError { () async throws(ProviderError) in try await Self.submit(Self.provider(upstream, client)) }
            try await client.shutdown()
            #expect(error?.kind == .invalidResponse)
            #expect(error?.httpStatus == 307)
            #expect(upstream.received.count == 1)
        }
    }

    @Test func providerJobID_InCallback() async throws {
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let provider = KreaProvider(name: "krea", configuration: providerConfiguration(.krea, baseURL: "https://api.krea.ai"), client: client)
        #expect(provider.providerJobID(inCallback: try Fixture.krea("job_completed")) == Self.jobID)
        #expect(provider.providerJobID(inCallback: []) == nil)
        try await client.shutdown()
    }
}
