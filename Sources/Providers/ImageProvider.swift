import GatewayCore

/// The seam between the gateway and one image provider (ARCHITECTURE.md): capabilities for
/// validation, submit, fetch, cancel where possible, and reading a callback. Adapters translate
/// unified ↔ wire format (PROVIDERS.md) and never see an HTTP request of the gateway's own.
public protocol ImageProvider: Sendable {
    /// The provider's name in the configuration (`krea`, `evolink`, …).
    var name: String { get }

    /// What `upstreamModel` accepts, or `nil` when this provider has no such model.
    func capabilities(for upstreamModel: String) -> ModelCapabilities?

    /// Submits a validated request. `callbackURL` is where the provider should call back, if set.
    /// Throws a `ProviderError` whose `kind` says whether a job may exist upstream.
    func submit(_ request: GenerationRequest, upstreamModel: String, callbackURL: String?) async throws(ProviderError) -> ProviderJobSnapshot

    /// Reads a job's current state from the provider.
    func fetch(providerJobID: String, upstreamModel: String) async throws(ProviderError) -> ProviderJobSnapshot

    /// Whether the provider can cancel jobs at all (Krea can, Evolink cannot).
    var canCancel: Bool { get }

    /// Asks the provider to cancel; returns the job as the provider reports it afterwards.
    func cancel(providerJobID: String, upstreamModel: String) async throws(ProviderError) -> ProviderJobSnapshot

    /// The provider job id a callback body names, if it names one. Callbacks are unsigned, so the
    /// gateway only uses this to decide which job to re-read (API.md §6).
    func providerJobID(inCallback body: [UInt8]) -> String?
}

/// A provider's view of a job, mapped to the unified vocabulary.
public struct ProviderJobSnapshot: Sendable, Equatable {
    /// The provider's job id.
    public var providerJobID: String
    /// The unified status (PROVIDERS.md mapping table).
    public var status: JobStatus
    /// The provider's own status name.
    public var providerStatus: String
    /// Result URLs once completed.
    public var resultURLs: [String]
    /// Why it failed, once failed.
    public var error: JobError?

    public init(providerJobID: String, status: JobStatus, providerStatus: String, resultURLs: [String] = [], error: JobError? = nil) {
        self.providerJobID = providerJobID
        self.status = status
        self.providerStatus = providerStatus
        self.resultURLs = resultURLs
        self.error = error
    }
}

/// A failed provider call, classified so that the gateway maps it per API.md §2 and knows whether
/// a job may have been created upstream (alias fallback is allowed only when it cannot have been).
public struct ProviderError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        /// 400/422 on our request: our translation was wrong → 502 `upstream_error`.
        case rejectedRequest = "rejected_request"
        /// The provider refused the content → 400 `content_policy_violation`.
        case contentPolicy = "content_policy"
        /// 401/403: our provider key is bad → 502 `upstream_error`.
        case authentication
        /// 402: the provider balance is empty → 503 `upstream_unavailable`.
        case balanceExhausted = "balance_exhausted"
        /// 429 → 503 `upstream_unavailable` with `Retry-After`.
        case rateLimited = "rate_limited"
        /// 5xx → 502 `upstream_error`.
        case serverError = "server_error"
        /// 2xx with an unreadable or wrongly shaped body → 502 `upstream_error`. A job may exist.
        case invalidResponse = "invalid_response"
        /// Refused or reset connection before a request was sent → 502 `upstream_error`.
        case connectionFailed = "connection_failed"
        /// No answer within the provider's `timeout_s` → 504 `upstream_timeout`. A job may exist.
        case timeout
        /// 404 on a job read or cancel.
        case notFound = "not_found"
        /// The job cannot be cancelled (terminal, or the provider has no cancel) → 409 `not_cancellable`.
        case notCancellable = "not_cancellable"
    }

    /// The class of failure.
    public var kind: Kind
    /// The provider's HTTP status, if it answered.
    public var httpStatus: Int?
    /// A short explanation (the provider's message, trimmed; never a secret).
    public var message: String
    /// Seconds to wait, when the provider said so (or its documented default).
    public var retryAfterSeconds: Int?

    public init(kind: Kind, httpStatus: Int? = nil, message: String, retryAfterSeconds: Int? = nil) {
        self.kind = kind
        self.httpStatus = httpStatus
        self.message = message
        self.retryAfterSeconds = retryAfterSeconds
    }

    public var description: String { "\(kind.rawValue)\(httpStatus.map { " (HTTP \($0))" } ?? ""): \(message)" }

    /// Whether the provider may have created a job despite the failure (then the submission must
    /// not be retried elsewhere: it could be billed twice).
    public var jobMayExist: Bool { kind == .timeout || kind == .invalidResponse }

    /// Whether an alias may try its next target (CONFIG.md `aliases`: 5xx, 429, timeout,
    /// connection error — and never after a job was created).
    public var allowsFallback: Bool {
        switch kind {
        case .serverError, .rateLimited, .connectionFailed, .balanceExhausted: return true
        default: return false
        }
    }

    /// The gateway's answer at submission (API.md §2).
    public func apiError(provider: String) -> APIError {
        switch kind {
        case .contentPolicy:
            return APIError(status: 400, kind: .invalidRequest, code: "content_policy_violation", message: "the provider refused the prompt under its content policy")
        case .balanceExhausted:
            return APIError(status: 503, kind: .upstream, code: "upstream_unavailable", message: "provider \(provider) cannot take jobs right now (account balance)")
        case .rateLimited:
            return APIError(status: 503, kind: .upstream, code: "upstream_unavailable", message: "provider \(provider) is rate limiting; retry later", retryAfterSeconds: retryAfterSeconds ?? 5)
        case .timeout:
            return APIError(status: 504, kind: .upstream, code: "upstream_timeout", message: "provider \(provider) did not answer in time")
        case .notFound:
            return APIError(status: 502, kind: .upstream, code: "upstream_error", message: "provider \(provider) does not know the job")
        case .notCancellable:
            return APIError(status: 409, kind: .invalidRequest, code: "not_cancellable", message: "the job cannot be cancelled")
        case .rejectedRequest, .authentication, .serverError, .invalidResponse, .connectionFailed:
            return APIError(status: 502, kind: .upstream, code: "upstream_error", message: "provider \(provider) failed: \(kind.rawValue)")
        }
    }
}
