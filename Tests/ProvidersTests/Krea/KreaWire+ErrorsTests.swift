import GatewayCore
@testable import Providers
import Testing

@Suite struct KreaWireErrorsTests {
    static func error(_ status: Int, _ fixture: String, headers: [(name: String, value: String)] = []) throws -> ProviderError {
        KreaWire.error(status: status, headers: headers, body: try Fixture.krea(fixture))
    }

    @Test func error_400StringIsRejectedRequest() throws {
        let error = try Self.error(400, "error_400_string")
        #expect(error.kind == .rejectedRequest)
        #expect(error.httpStatus == 400)
        #expect(error.message == #"krea: Invalid request body: unknown field "nsfw_check""#)
        #expect(!error.allowsFallback)
    }

    @Test func error_ContentPolicyRefusalIsContentPolicy() throws {
        #expect(try Self.error(400, "error_400_content_policy").kind == .contentPolicy)
        #expect(try Self.error(400, "error_400_content_policy").apiError(provider: "krea").code == "content_policy_violation")
    }

    @Test func error_401MessageShapeIsAuthentication() throws {
        let error = try Self.error(401, "error_401_message")
        #expect(error.kind == .authentication)
        #expect(error.message == "krea: Invalid or expired token")
        #expect(KreaWire.error(status: 403, headers: [], body: []).kind == .authentication)
    }

    @Test func error_402IsBalanceExhausted() throws {
        #expect(try Self.error(402, "error_402").kind == .balanceExhausted)
    }

    @Test func error_404IsNotFound() throws {
        #expect(try Self.error(404, "error_404").kind == .notFound)
    }

    @Test func error_422ValidationDetailIsRejectedRequest() throws {
        let error = try Self.error(422, "error_422_detail")
        #expect(error.kind == .rejectedRequest)
        #expect(error.message == "krea: Input should be 1:1, 4:3, 3:2, 16:9, 2.35:1, 4:5, 2:3 or 9:16")
    }

    @Test func error_429UsesRetryAfterElseFiveSeconds() throws {
        let withHeader = try Self.error(429, "error_429_message", headers: [(name: "retry-after", value: "12")])
        #expect(withHeader.kind == .rateLimited)
        #expect(withHeader.retryAfterSeconds == 12)
        #expect(withHeader.message == "krea: Too many concurrent requests")
        #expect(try Self.error(429, "error_429_message").retryAfterSeconds == 5)
        #expect(try Self.error(429, "error_429_message", headers: [(name: "Retry-After", value: "soon")]).retryAfterSeconds == 5)
    }

    @Test func error_5xxIsServerError() throws {
        let error = try Self.error(500, "error_500")
        #expect(error.kind == .serverError)
        #expect(error.allowsFallback)
        let bare = KreaWire.error(status: 503, headers: [(name: "Retry-After", value: "30")], body: Array("<html>down</html>".utf8))
        #expect(bare.kind == .serverError)
        #expect(bare.retryAfterSeconds == 30)
        #expect(bare.message == "krea: HTTP 503 without a readable error")
    }

    @Test func error_OtherStatuses() {
        #expect(KreaWire.error(status: 405, headers: [], body: []).kind == .rejectedRequest)
        #expect(KreaWire.error(status: 413, headers: [], body: []).kind == .rejectedRequest)
        #expect(KreaWire.error(status: 302, headers: [], body: []).kind == .invalidResponse)
    }

    @Test func cancelError_TerminalJobIsNotCancellable() throws {
        let conflict = KreaWire.cancelError(status: 409, headers: [], body: try Fixture.krea("error_409_cancel"))
        #expect(conflict.kind == .notCancellable)
        #expect(conflict.message == "krea: Job is already completed and cannot be cancelled")
        #expect(KreaWire.cancelError(status: 400, headers: [], body: []).kind == .notCancellable)
        #expect(KreaWire.cancelError(status: 404, headers: [], body: try Fixture.krea("error_404")).kind == .notFound)
        #expect(KreaWire.cancelError(status: 500, headers: [], body: []).kind == .serverError)
    }

    @Test func errorMessage_ReadsEveryShape() {
        #expect(KreaWire.errorMessage(in: Array(#"{"error":"a"}"#.utf8)) == "a")
        #expect(KreaWire.errorMessage(in: Array(#"{"message":"b"}"#.utf8)) == "b")
        #expect(KreaWire.errorMessage(in: Array(#"{"error":{"message":"c"}}"#.utf8)) == "c")
        #expect(KreaWire.errorMessage(in: Array(#"{"detail":"d"}"#.utf8)) == "d")
        #expect(KreaWire.errorMessage(in: Array(#"{"detail":[{"msg":"e"},{"msg":"f"}]}"#.utf8)) == "e; f")
        #expect(KreaWire.errorMessage(in: Array(#"{"error":""}"#.utf8)) == nil)
        #expect(KreaWire.errorMessage(in: Array("oops".utf8)) == nil)
    }
}
