/// The whole gateway configuration, one nested struct per section of CONFIG.md.
///
/// Built by ``ConfigLoader`` from YAML, which applies every default and every cross-check. The
/// initializers here take the same defaults but do **not** validate: they exist so tests and
/// tools can build a configuration directly.
///
/// Sections that are maps in YAML (providers, models, aliases, teams) are arrays here, in the
/// order the file lists them; look them up by name with ``provider(named:)``, ``model(named:)``,
/// ``alias(named:)``, ``team(named:)``. `String(describing:)` of a configuration never contains a
/// secret: every secret is a ``Secret``.
public struct GatewayConfiguration: Sendable, Equatable {
    /// `server`: the listener and HTTP limits.
    public var server: Server
    /// `state`: where the embedded durable store lives.
    public var state: State
    /// `admin`: operator access.
    public var admin: Admin
    /// `providers`: upstream connections, in file order (required, at least one).
    public var providers: [Provider]
    /// `models`: the model names clients send, in file order (required, at least one).
    public var models: [Model]
    /// `aliases`: extra names for models, single targets or fallback lists, in file order.
    public var aliases: [Alias]
    /// `teams`: groups of keys sharing a budget, in file order. Default: none.
    public var teams: [Team]
    /// `keys`: gateway keys declared in the file (read-only through the admin API). Default: none.
    public var keys: [Key]
    /// `jobs`: job lifetime.
    public var jobs: Jobs
    /// `webhooks`: delivery of job events to callers.
    public var webhooks: Webhooks
    /// `compat`: the OpenAI- and Krea-compatible front doors.
    public var compat: Compat
    /// `logging`: log level and format.
    public var logging: Logging
    /// `metrics`: the `/metrics` endpoint.
    public var metrics: Metrics

    /// A configuration from its sections; every section but the three required by CONFIG.md
    /// (`admin.master_key`, `providers`, `models`) has its documented default.
    public init(
        server: Server = Server(),
        state: State = State(),
        admin: Admin,
        providers: [Provider],
        models: [Model],
        aliases: [Alias] = [],
        teams: [Team] = [],
        keys: [Key] = [],
        jobs: Jobs = Jobs(),
        webhooks: Webhooks = Webhooks(),
        compat: Compat = Compat(),
        logging: Logging = Logging(),
        metrics: Metrics = Metrics()
    ) {
        self.server = server
        self.state = state
        self.admin = admin
        self.providers = providers
        self.models = models
        self.aliases = aliases
        self.teams = teams
        self.keys = keys
        self.jobs = jobs
        self.webhooks = webhooks
        self.compat = compat
        self.logging = logging
        self.metrics = metrics
    }

    /// The provider called `name`, if any.
    public func provider(named name: String) -> Provider? {
        providers.first { $0.name == name }
    }

    /// The model called `name` (not an alias), if any.
    public func model(named name: String) -> Model? {
        models.first { $0.name == name }
    }

    /// The alias called `name`, if any.
    public func alias(named name: String) -> Alias? {
        aliases.first { $0.name == name }
    }

    /// The team called `name`, if any.
    public func team(named name: String) -> Team? {
        teams.first { $0.name == name }
    }

    /// The key declared with `id`, if any.
    public func key(id: String) -> Key? {
        keys.first { $0.id == id }
    }

    /// The routes a client-facing name stands for, in the order to try them: one for a model,
    /// the alias's targets for an alias; `nil` for an unknown name. A route whose model or
    /// provider is missing is left out (the loader never produces such a configuration).
    public func routes(for name: String) -> [Route]? {
        let targets: [String]
        if model(named: name) != nil {
            targets = [name]
        } else if let alias = alias(named: name) {
            targets = alias.targets
        } else {
            return nil
        }
        return targets.compactMap { target in
            guard let model = model(named: target), let provider = provider(named: model.provider)
            else { return nil }
            return Route(model: model, provider: provider)
        }
    }

    /// One place a request can go: a model and the provider that serves it.
    public struct Route: Sendable, Equatable {
        /// The gateway model.
        public var model: Model
        /// The provider named by ``Model/provider``.
        public var provider: Provider

        /// A route from its parts.
        public init(model: Model, provider: Provider) {
            self.model = model
            self.provider = provider
        }
    }
}
