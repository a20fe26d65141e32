import Foundation
import Testing
@testable import GatewayCore

@Suite("APIError")
struct APIErrorTests {
    @Test func apiError_RendersTheContractShapeWithParam() throws {
        let error = APIError(status: 400, kind: .invalidRequest, code: "unsupported_parameter",
                             message: "moodboards is not supported by model krea-2-turbo (provider evolink)", param: "moodboards")
        let object = try JSONSerialization.jsonObject(with: Data(error.jsonBody.utf8)) as? [String: Any]
        let body = try #require(object?["error"] as? [String: String])
        #expect(body == ["type": "invalid_request_error", "code": "unsupported_parameter",
                         "message": "moodboards is not supported by model krea-2-turbo (provider evolink)", "param": "moodboards"])
    }

    @Test func apiError_OmitsParamWhenAbsent() {
        #expect(!APIError.notFound("no such job").jsonBody.contains("param"))
    }

    @Test func jsonText_EscapesEverythingThatWouldBreakTheDocument() throws {
        let nasty = "quote\" backslash\\ newline\n tab\t nul\u{0} bell\u{7} line-sep\u{2028} é 🎨"
        let json = "{\"v\":\(JSONText.quoted(nasty))}"
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: String]
        #expect(object?["v"] == nasty)
        #expect(!json.contains("\n"))
    }

    @Test func kindForStatus_FollowsTheErrorTable() {
        #expect(APIError.kind(forStatus: 400) == .invalidRequest)
        #expect(APIError.kind(forStatus: 408) == .invalidRequest)
        #expect(APIError.kind(forStatus: 401) == .authentication)
        #expect(APIError.kind(forStatus: 402) == .budget)
        #expect(APIError.kind(forStatus: 403) == .permission)
        #expect(APIError.kind(forStatus: 429) == .rateLimit)
        #expect(APIError.kind(forStatus: 500) == .api)
        #expect(APIError.kind(forStatus: 502) == .upstream)
        #expect(APIError.kind(forStatus: 504) == .upstream)
    }
}
