import GatewayCore
@testable import Providers
import Testing

@Suite struct EvolinkWireErrorsTests {
    @Test(arguments: [
        (400, "error_400", ProviderError.Kind.rejectedRequest, "evolink: invalid_request: size must be one of 1:1, 4:3, 3:4, 5:4, 4:5, 2:3, 3:2, 9:16, 16:9, 1:2, 2:1"),
        (400, "error_400_integer_code", .rejectedRequest, "evolink: 400: Invalid parameters"),
        (400, "error_400_content_policy", .contentPolicy, "evolink: content_policy_violation: Prompt was flagged"),
        (401, "error_401", .authentication, "evolink: unauthorized: Invalid API key"),
        (401, "error_401_integer_code", .authentication, "evolink: 401: Invalid API key"),
        (402, "error_402", .balanceExhausted, "evolink: insufficient_quota: Insufficient credits"),
        (403, "error_403", .authentication, "evolink: model_access_denied: Your plan does not include krea-2-turbo"),
        (404, "error_404", .notFound, "evolink: task_not_found: Task not found"),
        (429, "error_429", .rateLimited, "evolink: rate_limit_exceeded: Rate limit exceeded"),
        (500, "error_500", .serverError, "evolink: internal_error: Internal server error"),
        (502, "error_502", .serverError, "evolink: bad_gateway: Upstream service unavailable"),
        (503, "error_503", .serverError, "evolink: 503: Service temporarily unavailable"),
    ])
    func error_MapsEveryDocumentedAnswer(status: Int, fixture: String, kind: ProviderError.Kind, message: String) throws {
        let error = EvolinkWire.error(status: status, headers: [], body: try Fixture.evolink(fixture))
        #expect(error.kind == kind)
        #expect(error.httpStatus == status)
        #expect(error.message == message)
    }

    @Test func error_429RetryAfter() throws {
        let body = try Fixture.evolink("error_429")
        #expect(EvolinkWire.error(status: 429, headers: [], body: body).retryAfterSeconds == 5)
        #expect(EvolinkWire.error(status: 429, headers: [(name: "Retry-After", value: "7")], body: body).retryAfterSeconds == 7)
    }

    @Test func error_OtherShapesAndStatuses() {
        #expect(EvolinkWire.error(status: 400, headers: [], body: Array(#"{"error":"bad size"}"#.utf8)).message == "evolink: bad size")
        #expect(EvolinkWire.error(status: 500, headers: [], body: Array("oops".utf8)).message == "evolink: HTTP 500 without a readable error")
        #expect(EvolinkWire.error(status: 409, headers: [], body: []).kind == .rejectedRequest)
        #expect(EvolinkWire.error(status: 301, headers: [], body: []).kind == .invalidResponse)
        // A validation message naming nsfw_check is not a content-policy refusal.
        let field = EvolinkWire.error(status: 400, headers: [], body: Array(#"{"error":{"code":"invalid_request","message":"nsfw_check must be a boolean"}}"#.utf8))
        #expect(field.kind == .rejectedRequest)
    }
}
