import Foundation
import Yams

/// Reads and validates the gateway's YAML configuration (CONFIG.md).
///
/// The YAML tree is walked node by node (not `Codable`) so that unknown keys are errors, money is
/// read from the scalar's original text, and every problem is collected with its path and
/// reported together in one ``ConfigError``. `krea-gateway check-config` and `serve` run the same
/// code.
public enum ConfigLoader {
    /// The top-level sections CONFIG.md defines.
    static let sections = [
        "server", "state", "admin", "providers", "models", "aliases", "teams", "keys",
        "jobs", "webhooks", "compat", "logging", "metrics",
    ]

    /// Reads the file at `path` and parses it with ``parse(yaml:environment:)``.
    ///
    /// - Throws: ``ConfigError`` with a single path-less issue when the file cannot be read,
    ///   else whatever ``parse(yaml:environment:)`` throws.
    public static func load(
        path: String, environment: [String: String]
    ) throws(ConfigError) -> GatewayConfiguration {
        let yaml: String
        do {
            yaml = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(issues: [
                ConfigIssue(path: "", message: "cannot read configuration file \(path)")
            ])
        }
        return try parse(yaml: yaml, environment: environment)
    }

    /// Parses and validates a configuration, interpolating `${VAR}` from `environment`.
    ///
    /// - Throws: ``ConfigError`` listing every problem: YAML syntax (with line and column),
    ///   unknown keys, bad values, unset variables, and broken cross-references.
    public static func parse(
        yaml: String, environment: [String: String]
    ) throws(ConfigError) -> GatewayConfiguration {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw ConfigError(issues: [syntaxIssue(error)])
        }
        let reader = ConfigReader(environment: environment)
        let top: ConfigReader.Fields
        if let root, !ConfigReader.isNull(root) {
            guard let fields = reader.fields(root, at: "", allowed: sections) else {
                throw ConfigError(issues: [ConfigIssue(path: "", message: "expected a mapping at the top level")])
            }
            top = fields
        } else {
            top = ConfigReader.Fields(path: "", entries: [])
        }

        let names = DeclaredNames(reader: reader, top: top)
        let server = reader.server(top["server"])
        let state = reader.state(top["state"])
        let masterKey = reader.admin(top["admin"])
        let providers = reader.providers(top["providers"])
        let (models, usedProviders) = reader.models(top["models"], names: names)
        let aliases = reader.aliases(top["aliases"], names: names)
        let teams = reader.teams(top["teams"])
        let keys = reader.keys(top["keys"], names: names)
        let jobs = reader.jobs(top["jobs"])
        let webhooks = reader.webhooks(top["webhooks"])
        let compat = reader.compat(top["compat"], names: names)
        let logging = reader.logging(top["logging"])
        let metrics = reader.metrics(top["metrics"])

        let issues = reader.finalIssues(usedProviders: usedProviders)
        guard issues.isEmpty, let masterKey else {
            throw ConfigError(issues: issues.isEmpty
                ? [ConfigIssue(path: "admin.master_key", message: "required")] : issues)
        }
        return GatewayConfiguration(
            server: server, state: state, admin: .init(masterKey: masterKey),
            providers: providers, models: models, aliases: aliases, teams: teams, keys: keys,
            jobs: jobs, webhooks: webhooks, compat: compat, logging: logging, metrics: metrics)
    }

    /// A YAML syntax error as an issue with line and column, without the offending text (the
    /// line may hold a secret).
    static func syntaxIssue(_ error: any Error) -> ConfigIssue {
        let message: String
        switch error as? YamlError {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let while_ = context.map { " (\($0.text))" } ?? ""
            message = "YAML syntax error at line \(mark.line), column \(mark.column): \(problem)\(while_)"
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { "\"\($0)\"" }.joined(separator: ", ")
            message = "YAML error at line \(context.mark.line), column \(context.mark.column): duplicate key \(keys)"
        case .reader(let problem, let offset, _, _):
            message = "YAML error at byte \(offset.map(String.init) ?? "?"): \(problem)"
        default:
            message = "YAML error: the file could not be parsed"
        }
        return ConfigIssue(path: "", message: message)
    }
}

/// The names declared in each named section, read before the sections themselves so that a
/// reference to an entry that has its own errors is not reported a second time as unknown.
struct DeclaredNames {
    /// Keys of `providers`.
    var providers: Set<String> = []
    /// Keys of `models`.
    var models: Set<String> = []
    /// Keys of `aliases`.
    var aliases: Set<String> = []
    /// Keys of `teams`.
    var teams: Set<String> = []

    init(reader: ConfigReader, top: ConfigReader.Fields) {
        func keys(_ section: String) -> Set<String> {
            guard case .mapping(let mapping)? = top[section] else { return [] }
            return Set(mapping.keys.compactMap { $0.scalar?.string })
        }
        providers = keys("providers")
        models = keys("models")
        aliases = keys("aliases")
        teams = keys("teams")
    }

    /// Whether `name` is a model or an alias.
    func isModelOrAlias(_ name: String) -> Bool {
        models.contains(name) || aliases.contains(name)
    }
}
