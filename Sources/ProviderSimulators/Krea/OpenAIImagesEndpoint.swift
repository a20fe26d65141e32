import Foundation
import GatewayCore
import HTTPServer

/// `POST /v1/images/generations` on the Krea simulator: an OpenAI-Images-compatible upstream that
/// answers at once with one image URL, for gateways that speak only OpenAI's images API (the
/// LiteLLM side-by-side benchmark, `Benchmarks/litellm.sh`, points LiteLLM's `openai/…` model at
/// it, so that both gateways reach the same simulator process).
///
/// - Needs `Authorization: Bearer <apiKey>` (else 401).
/// - Body: a JSON object with a non-empty string `prompt` and a string `model`; `n`, when given,
///   must be 1. Other OpenAI fields (`size`, `quality`, `response_format`, `user`, …) are accepted
///   and ignored. A bad body is a 400.
/// - Answer: 200 `{"created": <unix>, "data": [{"url": "https://gen.krea.ai/images/<uuid>.png"}]}`,
///   synchronously: no job is kept and no callback is sent.
/// - Errors are OpenAI's shape: `{"error": {"message", "type", "param", "code"}}`.
enum OpenAIImagesEndpoint {
    static func generate(_ request: HTTPRequest, core: SimulatorCore) -> HTTPResponse {
        guard core.isAuthorized(request) else {
            return error(401, type: "invalid_request_error", code: "invalid_api_key", message: "Incorrect API key provided.")
        }
        guard let body = try? JSONParser.parse(request.body), case .object = body else {
            return error(400, code: "invalid_json", message: "The body must be a JSON object.")
        }
        guard let prompt = body["prompt"]?.stringValue, !prompt.trimmingCharacters(in: .whitespaces).isEmpty else {
            return error(400, param: "prompt", code: "missing_parameter", message: "prompt must be a non-empty string.")
        }
        guard body["model"]?.stringValue != nil else {
            return error(400, param: "model", code: "missing_parameter", message: "model must be a string.")
        }
        if let n = body["n"], n != .null, n.integerValue != 1 {
            return error(400, param: "n", code: "invalid_parameter", message: "only n = 1 is supported.")
        }
        let url = "https://gen.krea.ai/images/\(RandomUUID.string()).png"
        return .json(200, .object([
            ("created", .int(Int(Date().timeIntervalSince1970))),
            ("data", .array([.object([("url", .string(url))])])),
        ]))
    }

    static func error(_ status: Int, type: String = "invalid_request_error", param: String? = nil, code: String, message: String) -> HTTPResponse {
        .json(status, .object([("error", .object([
            ("message", .string(message)),
            ("type", .string(type)),
            ("param", param.map { .string($0) } ?? .null),
            ("code", .string(code)),
        ]))]))
    }
}
