import GatewayCore
import HTTPServer

/// Evolink's error body: `{"error": {"code": "<string>", "message": …, "type": …}}`, or with an
/// integer `code` (the HTTP status) as older pages show, under `[sim:intcode]`.
enum EvolinkError {
    static func response(_ status: Int, code: String? = nil, message: String? = nil, integerCode: Bool = false) -> HTTPResponse {
        let (defaultCode, type, defaultMessage) = describe(status)
        let codeValue: JSONValue = integerCode ? .int(status) : .string(code ?? defaultCode)
        return .json(status, .object([("error", .object([
            ("code", codeValue),
            ("message", .string(message ?? defaultMessage)),
            ("type", .string(type)),
        ]))]))
    }

    /// The code, type and message of a status.
    static func describe(_ status: Int) -> (code: String, type: String, message: String) {
        switch status {
        case 400: return ("invalid_request", "invalid_request_error", "invalid request")
        case 401: return ("unauthorized", "authentication_error", "invalid or missing API key")
        case 402: return ("insufficient_quota", "billing_error", "insufficient quota")
        case 403: return ("model_access_denied", "permission_error", "no access to this model")
        case 404: return ("task_not_found", "invalid_request_error", "task not found")
        case 429: return ("rate_limit_exceeded", "rate_limit_error", "rate limit exceeded")
        case 502: return ("bad_gateway", "api_error", "bad gateway")
        case 503: return ("service_unavailable", "api_error", "service unavailable")
        case 500...599: return ("internal_error", "api_error", "internal error")
        default: return ("request_failed", "invalid_request_error", "request failed")
        }
    }

    /// The server's own errors (unknown route, 405, 413, …) in Evolink's shape.
    static let renderError: HTTPErrorRenderer = { failure in
        var response = failure.status == 404
            ? response(404, code: "not_found", message: failure.message)
            : response(failure.status, message: failure.message)
        for field in failure.headers { response.headers.add(name: field.name, value: field.value) }
        return response
    }
}
