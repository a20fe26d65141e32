extension GatewayConfiguration {
    /// One entry of `teams`: keys that share a budget.
    public struct Team: Sendable, Equatable {
        /// The map key.
        public var name: String
        /// `budget`: the team's budget; `nil` (the default) means no team limit.
        public var budget: Budget?

        /// A team.
        public init(name: String, budget: Budget? = nil) {
            self.name = name
            self.budget = budget
        }
    }

    /// `{limit_usd, period}`: a spending limit per calendar window (UTC).
    public struct Budget: Sendable, Hashable {
        /// `limit_usd`: the most that may be spent plus reserved in one window. Required.
        public var limit: Money
        /// `period`: the window. Required.
        public var period: Period

        /// A budget.
        public init(limit: Money, period: Period) {
            self.limit = limit
            self.period = period
        }

        /// `budget.period`: calendar windows in UTC.
        public enum Period: String, Sendable, Hashable, CaseIterable {
            /// From 00:00 UTC each day.
            case daily
            /// From Monday 00:00 UTC.
            case weekly
            /// From the first of the month, 00:00 UTC.
            case monthly
            /// One window forever.
            case total
        }
    }

    /// One entry of `keys`: a gateway key declared in the file.
    public struct Key: Sendable, Equatable {
        /// `id`: unique among keys; letters, digits, `.`, `_`, `-`. Required.
        public var id: String
        /// `name`: a human label. Required.
        public var name: String
        /// `team`: the name of an entry of `teams`, or `nil` (the default).
        public var team: String?
        /// `key_sha256` or `key`: how a bearer token is recognised. Exactly one is required.
        public var credential: Credential
        /// `budget`: the key's own budget; `nil` (the default) means no key limit.
        public var budget: Budget?
        /// `models`: the models and aliases the key may use; `nil` (the default) means every one.
        public var models: [String]?
        /// `rpm`: requests per rolling minute, at least 1; `nil` (the default) means unlimited.
        public var rpm: Int?
        /// `max_concurrent`: non-terminal jobs at once, at least 1; `nil` (the default) means
        /// unlimited.
        public var maxConcurrent: Int?
        /// `webhook_secret`: a `whsec_<base64>` signing secret; `nil` (the default) means
        /// `webhooks.secret`.
        public var webhookSecret: Secret?

        /// A key; every optional field defaults to "none / unlimited".
        public init(
            id: String,
            name: String,
            team: String? = nil,
            credential: Credential,
            budget: Budget? = nil,
            models: [String]? = nil,
            rpm: Int? = nil,
            maxConcurrent: Int? = nil,
            webhookSecret: Secret? = nil
        ) {
            self.id = id
            self.name = name
            self.team = team
            self.credential = credential
            self.budget = budget
            self.models = models
            self.rpm = rpm
            self.maxConcurrent = maxConcurrent
            self.webhookSecret = webhookSecret
        }

        /// How a declared key's bearer token is recognised.
        ///
        /// GatewayCore has no SHA-256 (it depends on Yams only), so a plaintext `key:` is kept
        /// as a ``Secret``; whoever builds the in-memory key table hashes it with swift-crypto and
        /// from then on keeps only the digest (API.md §1).
        public enum Credential: Sendable, Hashable {
            /// `key_sha256`: the SHA-256 of the token, 64 lowercase hex digits.
            case sha256(hex: String)
            /// `key`: the token itself (typically `${ENV_VAR}`); hash before use, never store.
            case plaintext(Secret)
        }
    }
}
