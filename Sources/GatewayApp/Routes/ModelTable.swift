import GatewayCore
import Providers

/// Every name a client may send (models and aliases), resolved at start-up to its ordered targets:
/// the model, its provider adapter, and what the model accepts.
struct ModelTable: Sendable {
    struct Target: Sendable {
        let model: GatewayConfiguration.Model
        let provider: any ImageProvider
        let capabilities: ModelCapabilities
    }

    /// A startup problem: a model whose provider adapter does not know its upstream model.
    struct Problem: Error, CustomStringConvertible {
        let description: String
    }

    private(set) var targets: [String: [Target]] = [:]
    /// Names in the order of the configuration: models, then aliases.
    private(set) var names: [String] = []
    private(set) var aliasNames: Set<String> = []

    init(configuration: GatewayConfiguration, providers: [String: any ImageProvider]) throws(Problem) {
        var byModel: [String: Target] = [:]
        for model in configuration.models {
            guard let provider = providers[model.provider] else {
                throw Problem(description: "models.\(model.name): provider \(model.provider) has no adapter")
            }
            guard let capabilities = provider.capabilities(for: model.upstreamModel) else {
                throw Problem(description: "models.\(model.name).upstream_model: \(model.upstreamModel) is not a model provider \(model.provider) serves")
            }
            let target = Target(model: model, provider: provider, capabilities: capabilities)
            byModel[model.name] = target
            targets[model.name] = [target]
            names.append(model.name)
        }
        for alias in configuration.aliases {
            targets[alias.name] = alias.targets.compactMap { byModel[$0] }
            names.append(alias.name)
            aliasNames.insert(alias.name)
        }
    }

    /// The targets of a name, in fallback order.
    func resolve(_ name: String) -> [Target]? { targets[name] }
}
