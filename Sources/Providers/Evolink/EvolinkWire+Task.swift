import GatewayCore

extension EvolinkWire {
    /// The failure code by which Evolink reports a cancelled task (it has no `cancelled` status).
    static let cancelledCode = "request_cancelled"

    /// A task answer (the submission, `GET /v1/tasks/{id}`, a callback body). Throws
    /// `invalidResponse` when the body is not JSON or not shaped like a task.
    static func snapshot(from body: [UInt8]) throws(ProviderError) -> ProviderJobSnapshot {
        guard let json = ProviderText.json(body) else { throw invalid("the answer is not JSON") }
        return try snapshot(from: json)
    }

    /// A task object mapped to the unified view (PROVIDERS.md mapping table):
    ///
    /// | Evolink | Unified |
    /// |---|---|
    /// | `pending` | `queued` |
    /// | `processing` | `running` |
    /// | `completed` | `completed`, `results` → URLs (at least one, else `invalidResponse`) |
    /// | `failed` with `error.code` `request_cancelled` | `cancelled` |
    /// | `failed` otherwise | `failed` with ``jobError(from:)`` |
    /// | anything else | `running` (not terminal: keep polling; the raw name stays in `providerStatus`) |
    static func snapshot(from task: JSONValue) throws(ProviderError) -> ProviderJobSnapshot {
        guard case .object = task else { throw invalid("the answer is not a JSON object") }
        guard let id = ProviderText.string(task["id"]) else { throw invalid("the task has no id") }
        guard let providerStatus = ProviderText.string(task["status"]) else { throw invalid("the task has no status") }
        switch providerStatus {
        case "pending":
            return ProviderJobSnapshot(providerJobID: id, status: .queued, providerStatus: providerStatus)
        case "completed":
            let urls = resultURLs(in: task["results"])
            guard !urls.isEmpty else { throw invalid("the task is completed but results is missing or empty") }
            return ProviderJobSnapshot(providerJobID: id, status: .completed, providerStatus: providerStatus, resultURLs: urls)
        case "failed":
            if ProviderText.code(task["error"]?["code"]) == cancelledCode {
                return ProviderJobSnapshot(providerJobID: id, status: .cancelled, providerStatus: providerStatus)
            }
            return ProviderJobSnapshot(providerJobID: id, status: .failed, providerStatus: providerStatus, error: jobError(from: task["error"]))
        default:
            // `processing`, and any status Evolink adds later.
            return ProviderJobSnapshot(providerJobID: id, status: .running, providerStatus: providerStatus)
        }
    }

    /// The `JobError` of a failed task from `error {code, message, type}` (`code` a string or an
    /// integer): `content_policy_violation` when the code says so (or the message reads as a
    /// content-policy refusal), else `upstream_error`; the message keeps Evolink's code
    /// (`generation_timeout: …`) so operators can tell failures apart.
    static func jobError(from error: JSONValue?) -> JobError {
        let code = ProviderText.code(error?["code"])
        let message = ProviderText.string(error?["message"])
        let isPolicy = code == "content_policy_violation" || ProviderText.isContentPolicy(message)
        let text: String
        switch (code, message) {
        case (let code?, let message?): text = "\(code): \(message)"
        case (let code?, nil): text = code
        case (nil, let message?): text = message
        case (nil, nil): text = "the provider reported the task as failed without a reason"
        }
        return JobError(code: isPolicy ? "content_policy_violation" : "upstream_error", message: ProviderText.message(text))
    }

    /// The task id a callback body names (Evolink POSTs the task-query body), or `nil`.
    static func taskID(inCallback body: [UInt8]) -> String? {
        ProviderText.json(body).flatMap { ProviderText.string($0["id"]) }
    }

    /// `results`: URL strings (also `{"url": …}` objects, should Evolink switch shapes).
    private static func resultURLs(in results: JSONValue?) -> [String] {
        guard case .array(let items)? = results else { return [] }
        return items.compactMap { ProviderText.string($0) ?? ProviderText.string($0["url"]) }
    }

    static func invalid(_ message: String) -> ProviderError {
        ProviderError(kind: .invalidResponse, message: "evolink: " + message)
    }
}
