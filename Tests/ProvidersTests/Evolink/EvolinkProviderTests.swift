import AsyncHTTPClient
import GatewayCore
import HTTPServer
@testable import Providers
import Testing

/// The Evolink adapter over real sockets against a fake Evolink (`FakeUpstream`).
@Suite struct EvolinkProviderTests {
    static let taskID = "task-unified-1763719200-a1b2c3d4"

    static func provider(_ upstream: FakeUpstream, _ client: HTTPClient, timeout: Duration = .seconds(5)) -> EvolinkProvider {
        EvolinkProvider(name: "evolink", configuration: providerConfiguration(.evolink, baseURL: upstream.baseURL, timeout: timeout), client: client)
    }

    static func submit(_ provider: EvolinkProvider) async throws(ProviderError) -> ProviderJobSnapshot {
        try await provider.submit(GenerationRequest(model: "krea-2-turbo", prompt: "a red fox"), upstreamModel: "krea-2-turbo", callbackURL: nil)
    }

    @Test func submit_SendsTheTranslatedRequestAndReadsTheTask() async throws {
        let submission = try Fixture.evolink("submission")
        try await withUpstream({ router in
            router.add("POST", "/v1/images/generations") { _ in json(200, submission) }
        }) { client, upstream in
            var request = GenerationRequest(model: "krea-2-turbo", prompt: "a red fox")
            request.aspectRatio = "3:4"
            request.resolution = "2K"
            request.seed = 99
            request.nsfwCheck = true
            let snapshot = try await Self.provider(upstream, client)
                .submit(request, upstreamModel: "krea-2-turbo", callbackURL: "https://gw.example.com/callbacks/gen_1/tok")
            #expect(snapshot == ProviderJobSnapshot(providerJobID: Self.taskID, status: .queued, providerStatus: "pending"))

            #expect(upstream.received.count == 1)
            let received = try #require(upstream.received.first)
            #expect(received.method == "POST")
            #expect(received.path == "/v1/images/generations")
            #expect(received.headers["Authorization"] == "Bearer \(testAPIKey)")
            #expect(received.headers["Content-Type"] == "application/json")
            #expect(received.headers["X-Webhook-URL"] == nil)
            #expect(String(decoding: received.body, as: UTF8.self) == """
                {"model":"krea-2-turbo","prompt":"a red fox","size":"3:4","quality":"2K","seed":99,"nsfw_check":true,\
                "callback_url":"https://gw.example.com/callbacks/gen_1/tok"}
                """)
        }
    }

    @Test(arguments: [
        ("task_completed", JobStatus.completed), ("task_processing", .running), ("task_failed_request_cancelled", .cancelled),
        ("task_failed_integer_code", .failed),
    ])
    func fetch_ReadsTheTask(fixture: String, expected: JobStatus) async throws {
        let task = try Fixture.evolink(fixture)
        try await withUpstream({ router in
            router.add("GET", "/v1/tasks/{id}") { _ in json(200, task) }
        }) { client, upstream in
            let snapshot = try await Self.provider(upstream, client).fetch(providerJobID: Self.taskID, upstreamModel: "krea-2-turbo")
            #expect(snapshot.status == expected)
            let received = try #require(upstream.received.first)
            #expect(received.method == "GET")
            #expect(received.path == "/v1/tasks/\(Self.taskID)")
            #expect(received.headers["Authorization"] == "Bearer \(testAPIKey)")
        }
    }

    @Test(arguments: [
        (403, "error_403", ProviderError.Kind.authentication),
        (401, "error_401_integer_code", .authentication),
        (402, "error_402", .balanceExhausted),
        (400, "error_400_content_policy", .contentPolicy),
        (500, "error_500", .serverError),
        (503, "error_503", .serverError),
    ])
    func submit_ErrorStatuses(status: Int, fixture: String, kind: ProviderError.Kind) async throws {
        let body = try Fixture.evolink(fixture)
        try await withUpstream({ router in
            router.add("POST", "/v1/images/generations") { _ in json(status, body) }
        }) { client, upstream in
            let error = await providerError { () async throws(ProviderError) in try await Self.submit(Self.provider(upstream, client)) }
            #expect(error?.kind == kind)
            #expect(error?.httpStatus == status)
        }
    }

    @Test(arguments: [("3", 3), (nil, 5)] as [(String?, Int)])
    func submit_429IsRateLimitedWithRetryAfter(retryAfter: String?, expected: Int) async throws {
        let body = try Fixture.evolink("error_429")
        try await withUpstream({ router in
            router.add("POST", "/v1/images/generations") { _ in json(429, body, headers: retryAfter.map { ["Retry-After": $0] } ?? [:]) }
        }) { client, upstream in
            let error = await providerError { () async throws(ProviderError) in try await Self.submit(Self.provider(upstream, client)) }
            #expect(error?.kind == .rateLimited)
            #expect(error?.retryAfterSeconds == expected)
        }
    }

    @Test func submit_NonJSONSuccessIsInvalidResponse() async throws {
        try await withUpstream({ router in
            router.add("POST", "/v1/images/generations") { _ in HTTPResponse(status: 200, body: "Service Unavailable") }
        }) { client, upstream in
            let error = await providerError { () async throws(ProviderError) in try await Self.submit(Self.provider(upstream, client)) }
            #expect(error?.kind == .invalidResponse)
            #expect(error?.jobMayExist == true)
        }
    }

    @Test func submit_NoAnswerWithinTheTimeoutIsTimeout() async throws {
        try await withUpstream({ router in
            router.add("POST", "/v1/images/generations") { _ in
                try? await Task.sleep(for: .seconds(3))
                return json(200, "{}")
            }
        }) { client, upstream in
            let error = await providerError { () async throws(ProviderError) in
                try await Self.submit(Self.provider(upstream, client, timeout: .milliseconds(300)))
            }
            #expect(error?.kind == .timeout)
        }
    }

    @Test func submit_ClosedPortIsConnectionFailed() async throws {
        let closedPort = try ClosedPort()
        let baseURL = closedPort.baseURL
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let provider = EvolinkProvider(name: "evolink", configuration: providerConfiguration(.evolink, baseURL: baseURL, timeout: .milliseconds(300)), client: client)
        let error = await providerError { () async throws(ProviderError) in try await Self.submit(provider) }
        try await client.shutdown()
        withExtendedLifetime(closedPort) {}
        #expect(error?.kind == .connectionFailed)
    }

    @Test func cancel_IsNotCancellableWithoutACall() async throws {
        let callback = try Fixture.evolink("task_completed")
        try await withUpstream({ _ in }) { client, upstream in
            let provider = Self.provider(upstream, client)
            #expect(!provider.canCancel)
            let error = await providerError { () async throws(ProviderError) in
                try await provider.cancel(providerJobID: Self.taskID, upstreamModel: "krea-2-turbo")
            }
            #expect(error?.kind == .notCancellable)
            #expect(upstream.received.isEmpty)
            #expect(provider.providerJobID(inCallback: callback) == Self.taskID)
        }
    }
}
