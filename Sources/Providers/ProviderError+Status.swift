extension ProviderError {
    /// The failure for a non-2xx answer, by status (API.md §2's table, shared by every adapter):
    /// 400/422 → our request was wrong (or a content-policy refusal), 401/403 → bad provider key,
    /// 402 → balance, 404 → unknown job, 429 → rate limited (with `Retry-After`, else the
    /// provider's documented default), 5xx → server error, other 4xx → rejected, anything else
    /// (1xx, 3xx: a redirect that was not followed) → unreadable answer.
    static func forStatus(_ status: Int, message: String, contentPolicy: Bool, retryAfter: Int?, defaultRetryAfter: Int) -> ProviderError {
        switch status {
        case 400 where contentPolicy, 422 where contentPolicy: return ProviderError(kind: .contentPolicy, httpStatus: status, message: message)
        case 401, 403: return ProviderError(kind: .authentication, httpStatus: status, message: message)
        case 402: return ProviderError(kind: .balanceExhausted, httpStatus: status, message: message)
        case 404: return ProviderError(kind: .notFound, httpStatus: status, message: message)
        case 429: return ProviderError(kind: .rateLimited, httpStatus: status, message: message, retryAfterSeconds: retryAfter ?? defaultRetryAfter)
        case 500...599: return ProviderError(kind: .serverError, httpStatus: status, message: message, retryAfterSeconds: retryAfter)
        case 400...499: return ProviderError(kind: .rejectedRequest, httpStatus: status, message: message)
        default: return ProviderError(kind: .invalidResponse, httpStatus: status, message: message)
        }
    }
}
