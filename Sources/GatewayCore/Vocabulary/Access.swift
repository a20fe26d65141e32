/// Where a key or team was declared: config entries are read-only through the admin API.
public enum AccessSource: String, Sendable {
    case config, admin
}

/// A key as the registry keeps it: the SHA-256 of its token, never the token.
public struct KeyRecord: Sendable, Equatable {
    public var id: String
    public var name: String
    public var team: String?
    public var sha256Hex: String
    public var budget: GatewayConfiguration.Budget?
    public var models: [String]?
    public var rpm: Int?
    public var maxConcurrent: Int?
    /// `whsec_…` signing secret for this key's webhooks (else the config's).
    public var webhookSecret: Secret?
    public var createdAt: Timestamp
    public var revokedAt: Timestamp?
    public var source: AccessSource

    public init(id: String, name: String, team: String?, sha256Hex: String, budget: GatewayConfiguration.Budget?, models: [String]?,
                rpm: Int?, maxConcurrent: Int?, webhookSecret: Secret?, createdAt: Timestamp, revokedAt: Timestamp? = nil,
                source: AccessSource) {
        self.id = id
        self.name = name
        self.team = team
        self.sha256Hex = sha256Hex
        self.budget = budget
        self.models = models
        self.rpm = rpm
        self.maxConcurrent = maxConcurrent
        self.webhookSecret = webhookSecret
        self.createdAt = createdAt
        self.revokedAt = revokedAt
        self.source = source
    }
}

/// A team as the registry keeps it.
public struct TeamRecord: Sendable, Equatable {
    public var name: String
    public var budget: GatewayConfiguration.Budget?
    public var createdAt: Timestamp
    public var source: AccessSource

    public init(name: String, budget: GatewayConfiguration.Budget?, createdAt: Timestamp, source: AccessSource) {
        self.name = name
        self.budget = budget
        self.createdAt = createdAt
        self.source = source
    }
}

