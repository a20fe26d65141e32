import GatewayCore

extension KreaWire {
    /// The unified status of a Krea status name (PROVIDERS.md mapping table), `nil` for a name
    /// Krea does not document.
    static func status(of kreaStatus: String) -> JobStatus? {
        switch kreaStatus {
        case "backlogged", "queued", "scheduled": return .queued
        case "processing", "sampling", "intermediate-complete": return .running
        case "completed": return .completed
        case "failed": return .failed
        case "cancelled": return .cancelled
        default: return nil
        }
    }

    /// A job answer (`POST /generate/…`, `GET /jobs/{id}`, `DELETE /jobs/{id}`, a callback body).
    /// Throws `invalidResponse` when the body is not JSON or not shaped like a job.
    static func snapshot(from body: [UInt8]) throws(ProviderError) -> ProviderJobSnapshot {
        guard let json = ProviderText.json(body) else { throw invalid("the answer is not JSON") }
        return try snapshot(from: json)
    }

    /// A job object mapped to the unified view.
    ///
    /// PROVIDERS.md says "terminal ⇔ `completed_at` is set". When the two disagree the **status
    /// wins**: it is the only field that says *which* terminal state, and a wrong terminal
    /// verdict is the costly mistake (charging or releasing money), while a wrong "still
    /// running" only costs one more poll. So `completed` without `completed_at` is completed,
    /// and `processing` with `completed_at` is still running. `completed_at` decides only for a
    /// status Krea does not document: not set → `running` (keep polling); set → `completed` if
    /// `result.urls` is there, else `failed` with `upstream_error`.
    ///
    /// A `completed` job must carry at least one URL in `result.urls`; without one the answer is
    /// `invalidResponse` (the poller reads again) rather than a completed job with no image.
    static func snapshot(from job: JSONValue) throws(ProviderError) -> ProviderJobSnapshot {
        guard case .object = job else { throw invalid("the answer is not a JSON object") }
        guard let id = ProviderText.string(job["job_id"]) else { throw invalid("the job has no job_id") }
        guard let providerStatus = ProviderText.string(job["status"]) else { throw invalid("the job has no status") }
        let result = job["result"]
        let urls = resultURLs(in: result)

        switch status(of: providerStatus) {
        case .completed?:
            guard !urls.isEmpty else { throw invalid("the job is completed but result.urls is missing or empty") }
            return ProviderJobSnapshot(providerJobID: id, status: .completed, providerStatus: providerStatus, resultURLs: urls)
        case .failed?:
            return ProviderJobSnapshot(providerJobID: id, status: .failed, providerStatus: providerStatus, error: jobError(from: result?["error"]))
        case let status?:
            return ProviderJobSnapshot(providerJobID: id, status: status, providerStatus: providerStatus)
        case nil:
            guard isSet(job["completed_at"]) else {
                return ProviderJobSnapshot(providerJobID: id, status: .running, providerStatus: providerStatus)
            }
            if !urls.isEmpty {
                return ProviderJobSnapshot(providerJobID: id, status: .completed, providerStatus: providerStatus, resultURLs: urls)
            }
            let reason = ProviderText.message("the provider ended the job with an unknown status \(providerStatus)")
            let error = result?["error"].map { jobError(from: $0) } ?? JobError(code: "upstream_error", message: reason)
            return ProviderJobSnapshot(providerJobID: id, status: .failed, providerStatus: providerStatus, error: error)
        }
    }

    /// The `JobError` of a failed job from `result.error`, whose shape Krea does not document
    /// (PROVIDERS.md Decision: a string or an object).
    ///
    /// - A string is the message.
    /// - An object gives its message from `message`, `detail`, `error` or `reason` and its code
    ///   from `code` or `type` (string or integer); with neither, the object's JSON is the message.
    /// - Anything else (absent, null): a generic message.
    ///
    /// The code is `content_policy_violation` when the code or message reads as a content-policy
    /// refusal (``ProviderText/isContentPolicy(_:)``), else `upstream_error`.
    static func jobError(from value: JSONValue?) -> JobError {
        switch value {
        case .string(let text)?:
            return failure(code: nil, message: text.isEmpty ? nil : text)
        case .object(let members)?:
            let object = JSONValue.object(members)
            let message = ["message", "detail", "error", "reason"].lazy.compactMap { ProviderText.string(object[$0]) }.first
            let code = ProviderText.code(object["code"]) ?? ProviderText.code(object["type"])
            if message == nil, code == nil, !members.isEmpty { return failure(code: nil, message: object.serialized) }
            return failure(code: code, message: message)
        default:
            return failure(code: nil, message: nil)
        }
    }

    /// A unified failure from a provider code and message, either possibly missing.
    static func failure(code: String?, message: String?) -> JobError {
        let isPolicy = ProviderText.isContentPolicy(message) || ProviderText.isContentPolicy(code?.replacing("_", with: " "))
        let text: String
        switch (code, message) {
        case (let code?, let message?): text = "\(message) (\(code))"
        case (nil, let message?): text = message
        case (let code?, nil): text = "the provider reported \(code)"
        case (nil, nil): text = "the provider reported the job as failed without a reason"
        }
        return JobError(code: isPolicy ? "content_policy_violation" : "upstream_error", message: ProviderText.message(text))
    }

    /// The job id a callback body names (Krea POSTs the full job object), or `nil`.
    static func jobID(inCallback body: [UInt8]) -> String? {
        ProviderText.json(body).flatMap { ProviderText.string($0["job_id"]) }
    }

    /// `result.urls`, the non-empty strings only.
    private static func resultURLs(in result: JSONValue?) -> [String] {
        guard case .array(let items)? = result?["urls"] else { return [] }
        return items.compactMap { ProviderText.string($0) }
    }

    /// Whether a timestamp member is present and not null/empty.
    private static func isSet(_ value: JSONValue?) -> Bool {
        switch value {
        case nil, .null?: return false
        case .string(let text)?: return !text.isEmpty
        default: return true
        }
    }

    private static func invalid(_ message: String) -> ProviderError {
        ProviderError(kind: .invalidResponse, message: "krea: " + message)
    }
}
