extension GatewayConfiguration {
    /// One entry of `providers`: a connection to an upstream API.
    public struct Provider: Sendable, Equatable {
        /// The map key: what models refer to.
        public var name: String
        /// `kind`: which adapter speaks to it. Required.
        public var kind: Kind
        /// `base_url`: an `http://` or `https://` URL, as written. Required.
        public var baseURL: String
        /// `api_key`: the upstream bearer token. Required (may be empty, e.g. for a simulator).
        public var apiKey: Secret
        /// `timeout_s`: the deadline of one upstream HTTP call. Default 30 s.
        public var timeout: Duration
        /// `poll_interval_s`: first poll of a running job; polling backs off from there. Default 3 s.
        public var pollInterval: Duration

        /// A provider; timeout and poll interval default as in CONFIG.md.
        public init(
            name: String,
            kind: Kind,
            baseURL: String,
            apiKey: Secret,
            timeout: Duration = .seconds(30),
            pollInterval: Duration = .seconds(3)
        ) {
            self.name = name
            self.kind = kind
            self.baseURL = baseURL
            self.apiKey = apiKey
            self.timeout = timeout
            self.pollInterval = pollInterval
        }

        /// `providers.<name>.kind`: the adapters that exist.
        public enum Kind: String, Sendable, CaseIterable {
            /// Krea's API (PROVIDERS.md "Krea").
            case krea
            /// Evolink's API (PROVIDERS.md "Evolink").
            case evolink
        }
    }

    /// One entry of `models`: a name clients send.
    public struct Model: Sendable, Equatable {
        /// The map key: the name clients send.
        public var name: String
        /// `provider`: the name of an entry of `providers`. Required.
        public var provider: String
        /// `upstream_model`: the provider's name for it (Krea: the path after
        /// `/generate/image/krea/`; Evolink: the body's `model`). Required.
        public var upstreamModel: String
        /// `price`: what one job costs. Required.
        public var price: Price

        /// A model.
        public init(name: String, provider: String, upstreamModel: String, price: Price) {
            self.name = name
            self.provider = provider
            self.upstreamModel = upstreamModel
            self.price = price
        }
    }

    /// `models.<name>.price`: a base price and rules; the first matching rule wins.
    public struct Price: Sendable, Equatable {
        /// `base_usd`: the price when no rule matches. Required.
        public var base: Money
        /// `rules`: tried in order; the first whose condition holds gives the price. Default none.
        public var rules: [PriceRule]

        /// A price table.
        public init(base: Money, rules: [PriceRule] = []) {
            self.base = base
            self.rules = rules
        }
    }

    /// One entry of `price.rules`: `{if: <condition>, usd: "<amount>"}`.
    public struct PriceRule: Sendable, Equatable {
        /// `if`: when the rule applies.
        public var condition: PriceCondition
        /// `usd`: the price when it applies.
        public var price: Money

        /// A rule.
        public init(condition: PriceCondition, price: Money) {
            self.condition = condition
            self.price = price
        }
    }

    /// The `if:` of a price rule.
    public enum PriceCondition: Sendable, Hashable, CustomStringConvertible {
        /// `if: moodboards` — the request has the field: a non-empty array, or any present value.
        case has(field: String)
        /// `if: {resolution: "2K"}` — the request's field equals the value. The value is kept as
        /// the YAML scalar's text; compare it with the request field's string form.
        case equals(field: String, value: String)

        /// `has moodboards` or `resolution = 2K`.
        public var description: String {
            switch self {
            case .has(let field): "has \(field)"
            case .equals(let field, let value): "\(field) = \(value)"
            }
        }
    }

    /// One entry of `aliases`: another name for one model, or a fallback list of models.
    public struct Alias: Sendable, Equatable {
        /// The map key: the name clients send.
        public var name: String
        /// The models, in the order to try them. A single-target alias has one entry. The next
        /// target is tried only when the previous provider refused or failed the submission.
        public var targets: [String]

        /// An alias.
        public init(name: String, targets: [String]) {
            self.name = name
            self.targets = targets
        }

        /// Whether the alias was written as a list of more than one model.
        public var isFallbackList: Bool { targets.count > 1 }
    }
}
