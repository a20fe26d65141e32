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

    /// Each character that needs an escape, alone inside plain text, and plain text that needs
    /// none (copied as it is, non-ASCII included): every literal parses back to its string.
    @Test func jsonText_EscapesEachCharacterAloneAndCopiesPlainText() throws {
        let needing: [Character] = ["\"", "\\", "\n", "\r", "\t", "\u{0}", "\u{8}", "\u{C}", "\u{1F}", "\u{2028}", "\u{2029}"]
        for character in needing {
            let text = "ab\(character)cd"
            let literal = JSONText.quoted(text)
            #expect(literal != "\"" + text + "\"", "\(text.unicodeScalars.map(\.value)) needs an escape")
            let parsed = try JSONSerialization.jsonObject(with: Data("[\(literal)]".utf8)) as? [String]
            #expect(parsed == [text])
        }
        for plain in ["", "gen_01M7ZGMK5ZZXHPYD6TBWQ7TBTX", "https://a.example/x.png?y=1", "é 🎨 ₂ \u{2027}\u{202A}"] {
            #expect(JSONText.quoted(plain) == "\"" + plain + "\"")
            var out = "x"
            JSONText.appendQuoted(plain, to: &out)
            #expect(out == "x\"" + plain + "\"")
        }
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
