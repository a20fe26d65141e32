/// One terminal event for one job, and everything that happened trying to deliver it.
public struct WebhookDelivery: Sendable, Equatable {
    /// Where a delivery stands.
    public enum State: String, Sendable, Equatable, CaseIterable {
        /// Not delivered yet; another attempt is scheduled.
        case pending
        /// A 2xx answer was received.
        case delivered
        /// Given up: 410, the schedule ran out, or the destination is refused.
        case failed
    }

    /// One try.
    public struct Attempt: Sendable, Equatable {
        public var at: Timestamp
        /// The receiver's status, if it answered.
        public var status: Int?
        /// Why it failed without an answer (`timeout`, `connection_failed`, `refused_address`, …).
        public var error: String?
        public var latencyMilliseconds: Int

        public init(at: Timestamp, status: Int?, error: String?, latencyMilliseconds: Int) {
            self.at = at
            self.status = status
            self.error = error
            self.latencyMilliseconds = latencyMilliseconds
        }
    }

    /// The `webhook-id`: stable across retries (`msg_` + the job id: one event per job).
    public var id: String
    public var jobID: String
    public var url: String
    /// `generation.completed`, `generation.failed` or `generation.cancelled`.
    public var type: String
    /// The exact body sent on every attempt.
    public var body: [UInt8]
    /// The `whsec_` secret it is signed with.
    public var secret: Secret
    public var state: State
    public var attempts: [Attempt]
    public var nextAttemptAt: Timestamp?
    public var createdAt: Timestamp

    public init(id: String, jobID: String, url: String, type: String, body: [UInt8], secret: Secret, createdAt: Timestamp) {
        self.id = id
        self.jobID = jobID
        self.url = url
        self.type = type
        self.body = body
        self.secret = secret
        self.state = .pending
        self.attempts = []
        self.nextAttemptAt = createdAt
        self.createdAt = createdAt
    }

    /// The delivery log entry as the admin API shows it (the body and secret are not shown).
    public var jsonObject: String {
        let attempts = self.attempts.map { attempt in
            "{\"at\":\"\(attempt.at.rfc3339)\",\"status\":" + (attempt.status.map(String.init) ?? "null")
                + ",\"error\":" + (attempt.error.map(JSONText.quoted) ?? "null") + ",\"latency_ms\":\(attempt.latencyMilliseconds)}"
        }
        return "{\"id\":\(JSONText.quoted(id)),\"object\":\"webhook_delivery\",\"generation_id\":\(JSONText.quoted(jobID))"
            + ",\"url\":\(JSONText.quoted(url)),\"type\":\(JSONText.quoted(type)),\"state\":\"\(state.rawValue)\""
            + ",\"created_at\":\"\(createdAt.rfc3339)\",\"next_attempt_at\":" + (nextAttemptAt.map { "\"\($0.rfc3339)\"" } ?? "null")
            + ",\"attempts\":[" + attempts.joined(separator: ",") + "]}"
    }
}
