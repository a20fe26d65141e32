import GatewayCore

extension EvolinkWire {
    /// A non-2xx answer mapped to a `ProviderError` (PROVIDERS.md "Errors", API.md §2).
    ///
    /// | Answer | Kind |
    /// |---|---|
    /// | code `content_policy_violation` (any status), or a 400/422 whose message reads as a refusal | `contentPolicy` |
    /// | 400 `invalid_request`, 422 | `rejectedRequest` |
    /// | 401 `unauthorized`, 403 `model_access_denied` | `authentication` |
    /// | 402 `insufficient_quota` | `balanceExhausted` |
    /// | 404 `task_not_found` | `notFound` |
    /// | 429 `rate_limit_exceeded` | `rateLimited`, `Retry-After` else 5 s |
    /// | 500 `internal_error`, 502, 503, other 5xx | `serverError` |
    /// | other 4xx | `rejectedRequest` |
    /// | 1xx, 3xx | `invalidResponse` |
    ///
    /// The status decides; the code (string or integer) only adds the content-policy case and
    /// goes into the message (`insufficient_quota: …`).
    static func error(status: Int, headers: [(name: String, value: String)], body: [UInt8]) -> ProviderError {
        let (code, detail) = errorDetail(in: body)
        let summary: String
        switch (code, detail) {
        case (let code?, let detail?): summary = "\(code): \(detail)"
        case (let code?, nil): summary = code
        case (nil, let detail?): summary = detail
        case (nil, nil): summary = "HTTP \(status) without a readable error"
        }
        let message = "evolink: " + ProviderText.message(summary)
        let retryAfter = HTTPTransport.retryAfterSeconds(UpstreamResponse.header("Retry-After", in: headers))
        let contentPolicy = code == "content_policy_violation" || ((status == 400 || status == 422) && ProviderText.isContentPolicy(detail))
        if contentPolicy { return ProviderError(kind: .contentPolicy, httpStatus: status, message: message) }
        return ProviderError.forStatus(status, message: message, contentPolicy: false,
                                       retryAfter: retryAfter, defaultRetryAfter: defaultRetryAfterSeconds)
    }

    /// `(code, message)` of `{"error": {"code", "message", "type"}}` (`code` a string or an
    /// integer), also `{"error": "<string>"}` and `{"message": …}`; `nil`s when absent or not JSON.
    static func errorDetail(in body: [UInt8]) -> (code: String?, message: String?) {
        guard let json = ProviderText.json(body) else { return (nil, nil) }
        if let error = json["error"], case .object = error {
            return (ProviderText.code(error["code"]), ProviderText.string(error["message"]).map(ProviderText.message))
        }
        let message = ProviderText.string(json["error"]) ?? ProviderText.string(json["message"])
        return (ProviderText.code(json["code"]), message.map(ProviderText.message))
    }
}
