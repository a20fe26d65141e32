/// An error as the API answers it (API.md §2): a status and
/// `{"error": {"type", "code", "message", "param"?}}`.
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The `type` of API.md §2, one per status family.
    public enum Kind: String, Sendable, Equatable {
        case invalidRequest = "invalid_request_error"
        case authentication = "authentication_error"
        case budget = "budget_error"
        case permission = "permission_error"
        case rateLimit = "rate_limit_error"
        case api = "api_error"
        case upstream = "upstream_error"
    }

    /// The HTTP status.
    public var status: Int
    /// The error `type`.
    public var kind: Kind
    /// The stable, low-cardinality `code` (usable as a metric label).
    public var code: String
    /// A message for humans; never a secret, a stack trace or a request body.
    public var message: String
    /// The request field at fault, when there is one.
    public var param: String?
    /// Seconds for `Retry-After` (429, 503).
    public var retryAfterSeconds: Int?

    /// Creates an error.
    public init(status: Int, kind: Kind, code: String, message: String, param: String? = nil, retryAfterSeconds: Int? = nil) {
        self.status = status
        self.kind = kind
        self.code = code
        self.message = message
        self.param = param
        self.retryAfterSeconds = retryAfterSeconds
    }

    public var description: String { "\(status) \(code): \(message)" }

    /// The JSON body, keys in a fixed order.
    public var jsonBody: String {
        var json = "{\"error\":{\"type\":\(JSONText.quoted(kind.rawValue)),\"code\":\(JSONText.quoted(code)),\"message\":\(JSONText.quoted(message))"
        if let param { json += ",\"param\":\(JSONText.quoted(param))" }
        return json + "}}"
    }

    // MARK: The errors every route can answer

    /// 401 `invalid_api_key`.
    public static func invalidAPIKey(_ message: String = "missing or invalid API key") -> APIError {
        APIError(status: 401, kind: .authentication, code: "invalid_api_key", message: message)
    }

    /// 404 `not_found`.
    public static func notFound(_ message: String) -> APIError {
        APIError(status: 404, kind: .invalidRequest, code: "not_found", message: message)
    }

    /// 500 `internal_error`.
    public static let internalError = APIError(status: 500, kind: .api, code: "internal_error", message: "internal error")

    /// The `type` that goes with a status the HTTP layer answers by itself.
    public static func kind(forStatus status: Int) -> Kind {
        switch status {
        case 401: return .authentication
        case 402: return .budget
        case 403: return .permission
        case 429: return .rateLimit
        case 502, 504: return .upstream
        case 500...599: return .api
        default: return .invalidRequest
        }
    }
}

/// Minimal JSON text helpers for hand-built bodies on hot paths.
public enum JSONText {
    /// A JSON string literal for `text`, escaped per RFC 8259 §7.
    public static func quoted(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count + 2)
        appendQuoted(text, to: &out)
        return out
    }

    /// Appends the JSON string literal for `text` to `out`. Most strings (ids, names, statuses,
    /// URLs, prompts) need no escape: one scan of their bytes, then a plain append.
    public static func appendQuoted(_ text: String, to out: inout String) {
        out += "\""
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x22 && $0 != 0x5C && $0 != 0xE2 }) {
            // No quote, backslash or control character, and no U+2028/U+2029 (E2 80 A8/A9).
            out += text
        } else {
            appendEscaped(text, to: &out)
        }
        out += "\""
    }

    private static func appendEscaped(_ text: String, to out: inout String) {
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 || scalar.value == 0x2028 || scalar.value == 0x2029 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
    }
}
