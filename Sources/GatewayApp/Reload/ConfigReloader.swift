import GatewayCore
import HTTPServer
import Logging
import Providers
import Synchronization

/// Where a reload gets its configuration and provider adapters (set by `serve`: the config file
/// and the shared HTTP client).
public struct ReloadSource: Sendable {
    /// Reads and validates the configuration again; throws the loader's errors.
    public var load: @Sendable () throws -> GatewayConfiguration
    /// Adapters for the providers of a configuration.
    public var makeProviders: @Sendable (GatewayConfiguration) -> [String: any ImageProvider]

    public init(load: @escaping @Sendable () throws -> GatewayConfiguration,
                makeProviders: @escaping @Sendable (GatewayConfiguration) -> [String: any ImageProvider]) {
        self.load = load
        self.makeProviders = makeProviders
    }
}

/// How a reload renews the TLS listener's certificate: make a context from the new settings, then
/// hand it to the listener (new connections take it; open ones keep theirs).
struct TLSReload: Sendable {
    let makeContext: @Sendable (GatewayConfiguration.Server.TLS) throws(TLSError) -> TLSContext
    let install: @Sendable (TLSContext) -> Void
}

/// Config reload (SIGHUP and `POST /admin/reload`, API.md §9): a valid file swaps in its routes
/// (models, aliases, providers), prices, keys, teams, budgets and limits at once, without touching
/// connections or jobs in flight (a job settles at the price it was admitted with); an invalid
/// file changes nothing. Sections that only a restart can apply are reported, not applied.
final class ConfigReloader: Sendable {
    struct Applied: Sendable {
        var models: [String]
        var keys: Int
        var teams: Int
        var restartRequired: [String]
    }

    struct Refused: Error, CustomStringConvertible {
        let description: String
    }

    private let source = Mutex<ReloadSource?>(nil)
    /// One reload at a time; also the configuration now in force.
    private let current: Mutex<GatewayConfiguration>
    private let models: LiveModels
    private let keys: KeyRing
    private let tracker: JobTracker
    private let metrics: GatewayMetrics
    private let logger: Logger

    private let tlsListener: TLSReload?

    init(configuration: GatewayConfiguration, models: LiveModels, keys: KeyRing, tracker: JobTracker, metrics: GatewayMetrics, logger: Logger,
         tlsListener: TLSReload? = nil) {
        self.tlsListener = tlsListener
        current = Mutex(configuration)
        self.models = models
        self.keys = keys
        self.tracker = tracker
        self.metrics = metrics
        self.logger = logger
    }

    func enable(_ source: ReloadSource) { self.source.withLock { $0 = source } }

    func reload() -> Result<Applied, Refused> {
        guard let source = source.withLock({ $0 }) else {
            return .failure(Refused(description: "this gateway was not started from a configuration file, so there is nothing to re-read"))
        }
        let outcome = current.withLock { current -> Result<Applied, Refused> in
            let next: GatewayConfiguration
            do {
                next = try source.load()
            } catch {
                return .failure(Refused(description: "\(error)"))
            }
            // The certificate and key are read again (their files may have been renewed in
            // place); a pair that does not load refuses the whole reload, and the old one stays.
            var tlsContext: TLSContext?
            if let tlsListener, let tls = next.server.tls {
                do throws(TLSError) {
                    tlsContext = try tlsListener.makeContext(tls)
                } catch {
                    return .failure(Refused(description: "server.tls: \(error)"))
                }
            }
            let providers = source.makeProviders(next).mapValues { MeteredProvider(inner: $0, metrics: metrics) as any ImageProvider }
            let table: ModelTable
            do throws(ModelTable.Problem) {
                table = try ModelTable(configuration: next, providers: providers)
            } catch {
                return .failure(Refused(description: error.description))
            }
            do throws(KeyRing.ConflictList) {
                try keys.replaceConfigured(from: next)
            } catch {
                return .failure(Refused(description: error.description))
            }
            models.replace(with: table)
            tracker.replaceProviders(providers, configuration: next)
            if let tlsContext { tlsListener?.install(tlsContext) }
            let restart = Self.restartRequired(from: current, to: next)
            current = next
            return .success(Applied(models: table.names, keys: next.keys.count, teams: next.teams.count, restartRequired: restart))
        }
        switch outcome {
        case .success(let applied):
            logger.info("configuration reloaded", metadata: [
                "models": "\(applied.models.count)", "config_keys": "\(applied.keys)", "config_teams": "\(applied.teams)",
                "restart_required": "\(applied.restartRequired.joined(separator: ","))"])
        case .failure(let refused):
            logger.error("configuration reload refused; the running configuration stays", metadata: ["error": "\(refused.description)"])
        }
        return outcome
    }

    /// Sections that changed but are only read at start-up.
    static func restartRequired(from old: GatewayConfiguration, to new: GatewayConfiguration) -> [String] {
        var sections: [String] = []
        if old.server != new.server { sections.append("server") }
        if old.state != new.state { sections.append("state") }
        if old.admin != new.admin { sections.append("admin") }
        if old.jobs != new.jobs { sections.append("jobs") }
        if old.webhooks != new.webhooks { sections.append("webhooks") }
        if old.logging != new.logging { sections.append("logging") }
        if old.metrics != new.metrics { sections.append("metrics") }
        if old.compat != new.compat { sections.append("compat") }
        return sections
    }

    /// `POST /admin/reload` (master key; the admin routes check it).
    func respond() -> HTTPResponse {
        switch reload() {
        case .success(let applied):
            let json = "{\"object\":\"config_reload\",\"status\":\"applied\",\"models\":["
                + applied.models.map(JSONText.quoted).joined(separator: ",") + "],\"config_keys\":\(applied.keys),\"config_teams\":\(applied.teams)"
                + ",\"restart_required\":[" + applied.restartRequired.map(JSONText.quoted).joined(separator: ",") + "]}"
            return .json(200, json)
        case .failure(let refused):
            return .error(APIError(status: 400, kind: .invalidRequest, code: "invalid_config",
                                   message: "the configuration was not reloaded (the running one stays): \(refused.description)"))
        }
    }
}
