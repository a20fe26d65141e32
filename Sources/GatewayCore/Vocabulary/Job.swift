/// Which API a job was created through (API.md §3, §7).
public enum FrontDoor: String, Sendable, Equatable, CaseIterable {
    /// `/v1/generations`.
    case gateway
    /// The Krea-compatible paths: events carry the Krea-shaped job.
    case krea
    /// `/v1/images/generations` (OpenAI Images).
    case openai
}

/// A job's unified status (API.md §3, PROVIDERS.md mapping).
public enum JobStatus: String, Sendable, Equatable, CaseIterable {
    case queued, running, completed, failed, cancelled

    /// `completed`, `failed` and `cancelled` are terminal.
    public var isTerminal: Bool { self == .completed || self == .failed || self == .cancelled }
}

/// What happened to a job's money (API.md §3, §4).
public enum BillingStatus: String, Sendable, Equatable {
    /// Not terminal: the price is held.
    case reserved
    /// Completed, or outcome unknown at `max_age`: the price is spent.
    case charged
    /// Failed, cancelled or refused: nothing is charged.
    case released
}

/// Why a job failed: `{"code", "message"}`.
public struct JobError: Sendable, Equatable {
    /// A stable code (`content_policy_violation`, `upstream_error`, `upstream_timeout`, …).
    public var code: String
    /// A message for humans (never a provider secret).
    public var message: String
    public init(code: String, message: String) { self.code = code; self.message = message }
}

/// A generation job as the gateway tracks it.
public struct Job: Sendable, Equatable {
    /// `gen_…`
    public var id: String
    /// The gateway key that created it.
    public var ownerKeyID: String
    /// The key's team when the job was admitted (spend is reported against it).
    public var team: String?
    /// The name the client sent (an alias stays an alias).
    public var model: String
    /// The provider it went to (config name) and the provider's model.
    public var provider: String
    public var providerModel: String
    /// The provider's own job id, once submitted.
    public var providerJobID: String?
    public var status: JobStatus
    /// The provider's last raw status name (for operators).
    public var providerStatus: String?
    public var createdAt: Timestamp
    public var completedAt: Timestamp?
    public var resultURLs: [String]?
    public var error: JobError?
    /// The price under the pricing table when admitted.
    public var cost: Money
    public var billingStatus: BillingStatus
    public var metadata: JSONValue?
    public var webhookURL: String?
    /// Bumped by every change of the job (not shown in the API): the durable store keeps the
    /// highest revision it has seen, so writes that reach it out of order never go back in time.
    public var revision: Int = 0
    /// The API the job was created through: its webhook event is shaped for that API's clients.
    public var frontDoor: FrontDoor = .gateway

    /// A new job at admission.
    public init(id: String, ownerKeyID: String, model: String, provider: String, providerModel: String, cost: Money,
                createdAt: Timestamp, metadata: JSONValue? = nil, webhookURL: String? = nil) {
        self.id = id
        self.ownerKeyID = ownerKeyID
        self.model = model
        self.provider = provider
        self.providerModel = providerModel
        self.status = .queued
        self.createdAt = createdAt
        self.cost = cost
        self.billingStatus = .reserved
        self.metadata = metadata
        self.webhookURL = webhookURL
    }

    /// The job object of API.md §3, keys in the documented order.
    public var jsonObject: String {
        // Appended piece by piece into one buffer: this is on every answer about a job.
        var json = ""
        json.reserveCapacity(400)
        json += "{\"id\":"
        JSONText.appendQuoted(id, to: &json)
        json += ",\"object\":\"generation\",\"model\":"
        JSONText.appendQuoted(model, to: &json)
        json += ",\"provider\":"
        JSONText.appendQuoted(provider, to: &json)
        json += ",\"provider_model\":"
        JSONText.appendQuoted(providerModel, to: &json)
        json += ",\"status\":\""
        json += status.rawValue
        json += "\",\"created_at\":\""
        json += createdAt.rfc3339
        json += "\",\"completed_at\":"
        if let completedAt {
            json += "\""
            json += completedAt.rfc3339
            json += "\""
        } else {
            json += "null"
        }
        if let urls = resultURLs, status == .completed {
            json += ",\"result\":{\"urls\":["
            for (index, url) in urls.enumerated() {
                if index > 0 { json += "," }
                JSONText.appendQuoted(url, to: &json)
            }
            json += "]}"
        } else {
            json += ",\"result\":null"
        }
        if let error {
            json += ",\"error\":{\"code\":"
            JSONText.appendQuoted(error.code, to: &json)
            json += ",\"message\":"
            JSONText.appendQuoted(error.message, to: &json)
            json += "}"
        } else {
            json += ",\"error\":null"
        }
        json += ",\"cost_usd\":\""
        json += cost.apiString
        json += "\",\"billing_status\":\""
        json += billingStatus.rawValue
        json += "\",\"metadata\":"
        if let metadata { metadata.write(to: &json) } else { json += "{}" }
        json += "}"
        return json
    }
}

extension Money {
    /// Money as the API writes it: a decimal string with at least 3 fractional digits
    /// (`"0.030"`, `"0.0067"`, `"20.000"`), exact.
    public var apiString: String { formatted(minimumFractionDigits: 3) }
}
