import GatewayCore

extension KreaWire {
    /// A non-2xx answer mapped to a `ProviderError` (PROVIDERS.md "Errors", API.md §2).
    ///
    /// | Status | Kind |
    /// |---|---|
    /// | 400, 422 | `contentPolicy` when the message reads as a content-policy refusal, else `rejectedRequest` |
    /// | 401, 403 | `authentication` |
    /// | 402 | `balanceExhausted` |
    /// | 404 | `notFound` |
    /// | 429 | `rateLimited`, `Retry-After` (seconds or HTTP date) else 5 s |
    /// | 5xx | `serverError` (with `Retry-After` when given) |
    /// | other 4xx (405, 409, 413, …) | `rejectedRequest`: our request was wrong |
    /// | 1xx, 3xx (a redirect that was not followed) | `invalidResponse`: unexpected, and a job may exist |
    ///
    /// The message is Krea's (``errorMessage(in:)``), trimmed, or `HTTP <status>` when the body
    /// says nothing readable.
    static func error(status: Int, headers: [(name: String, value: String)], body: [UInt8]) -> ProviderError {
        let detail = errorMessage(in: body)
        let message = "krea: " + (detail ?? "HTTP \(status) without a readable error")
        let retryAfter = HTTPTransport.retryAfterSeconds(UpstreamResponse.header("Retry-After", in: headers))
        return ProviderError.forStatus(status, message: message, contentPolicy: ProviderText.isContentPolicy(detail),
                                       retryAfter: retryAfter, defaultRetryAfter: defaultRetryAfterSeconds)
    }

    /// A non-2xx answer to `DELETE /jobs/{id}`: Krea cancels only `queued`/`processing` jobs, so
    /// a 400 or 409 there means the job is past cancelling → `notCancellable`; any other status
    /// as ``error(status:headers:body:)``.
    static func cancelError(status: Int, headers: [(name: String, value: String)], body: [UInt8]) -> ProviderError {
        guard status == 400 || status == 409 else { return error(status: status, headers: headers, body: body) }
        let detail = errorMessage(in: body) ?? "the job can no longer be cancelled"
        return ProviderError(kind: .notCancellable, httpStatus: status, message: "krea: " + detail)
    }

    /// Krea's error text: `{"error": "<string>"}`, or `{"message": …}` on some answers (PROVIDERS.md),
    /// also `{"error": {"message": …}}` and a validation `{"detail": "…" | [{"msg": …}, …]}`.
    /// `nil` when the body is not JSON or carries none of these.
    static func errorMessage(in body: [UInt8]) -> String? {
        guard let json = ProviderText.json(body) else { return nil }
        let text: String?
        if let error = ProviderText.string(json["error"]) {
            text = error
        } else if let nested = json["error"], case .object = nested {
            text = ProviderText.string(nested["message"]) ?? ProviderText.code(nested["code"])
        } else if let message = ProviderText.string(json["message"]) {
            text = message
        } else if let detail = ProviderText.string(json["detail"]) {
            text = detail
        } else if case .array(let items)? = json["detail"] {
            let messages = items.compactMap { ProviderText.string($0["msg"]) ?? ProviderText.string($0["message"]) }
            text = messages.isEmpty ? nil : messages.joined(separator: "; ")
        } else {
            text = nil
        }
        return text.map(ProviderText.message).flatMap { $0.isEmpty ? nil : $0 }
    }
}
