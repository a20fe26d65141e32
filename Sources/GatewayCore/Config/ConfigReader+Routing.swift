import Yams

/// `providers`, `models` (with prices) and `aliases`.
extension ConfigReader {
    typealias Config = GatewayConfiguration

    /// The providers that read cleanly. Unset `${VAR}`s inside one are reported provisionally:
    /// they stand only if some model uses that provider (CONFIG.md).
    func providers(_ node: Node?) -> [Config.Provider] {
        guard let node else {
            report("providers", "required")
            return []
        }
        guard let entries = entries(node, at: "providers") else { return [] }
        if entries.isEmpty { report("providers", "must declare at least one provider") }
        var result: [Config.Provider] = []
        for (name, value) in entries {
            currentProvider = name
            defer { currentProvider = nil }
            let path = "providers.\(name)"
            guard let f = fields(value, at: path, allowed: [
                "kind", "base_url", "api_key", "timeout_s", "poll_interval_s",
            ]) else { continue }
            let kind = required(f, "kind") { choice($0, at: $1, of: Config.Provider.Kind.self) }
            let baseURL = required(f, "base_url") { node, path -> String? in
                guard let text = text(node, at: path) else { return nil }
                guard ConfigReader.isHTTPURL(text) else {
                    report(path, "must be an http(s) URL")
                    return nil
                }
                return text
            }
            let apiKey = required(f, "api_key") { secret($0, at: $1) }
            let timeout = f["timeout_s"].map { duration($0, at: f.path("timeout_s")) }
            let poll = f["poll_interval_s"].map { duration($0, at: f.path("poll_interval_s")) }
            guard let kind, let baseURL, let apiKey, timeout != .some(nil), poll != .some(nil)
            else { continue }
            result.append(Config.Provider(
                name: name, kind: kind, baseURL: baseURL, apiKey: apiKey,
                timeout: timeout.flatMap { $0 } ?? .seconds(30),
                pollInterval: poll.flatMap { $0 } ?? .seconds(3)))
        }
        return result
    }

    /// The models that read cleanly, and the provider names models refer to (read even from
    /// models with other errors, for the unused-provider rule).
    func models(_ node: Node?, names: DeclaredNames) -> ([Config.Model], Set<String>) {
        guard let node else {
            report("models", "required")
            return ([], [])
        }
        guard let entries = entries(node, at: "models") else { return ([], []) }
        if entries.isEmpty { report("models", "must declare at least one model") }
        var result: [Config.Model] = []
        var used: Set<String> = []
        for (name, value) in entries {
            let path = "models.\(name)"
            guard let f = fields(value, at: path, allowed: ["provider", "upstream_model", "price"])
            else { continue }
            let provider = required(f, "provider") { node, path -> String? in
                guard let text = nonEmptyText(node, at: path) else { return nil }
                used.insert(text)
                guard names.providers.contains(text) else {
                    report(path, "unknown provider \"\(text)\"")
                    return nil
                }
                return text
            }
            let upstream = required(f, "upstream_model") { nonEmptyText($0, at: $1) }
            let price = required(f, "price") { self.price($0, at: $1) }
            if let provider, let upstream, let price {
                result.append(Config.Model(name: name, provider: provider, upstreamModel: upstream, price: price))
            }
        }
        return (result, used)
    }

    /// `price: {base_usd, rules}`; a model without a base price has no determinable price.
    func price(_ node: Node, at path: String) -> Config.Price? {
        guard let f = fields(node, at: path, allowed: ["base_usd", "rules"]) else { return nil }
        let base = required(f, "base_usd") { money($0, at: $1) }
        var rules: [Config.PriceRule] = []
        var rulesComplete = true
        if let node = f["rules"], let items = sequence(node, at: f.path("rules")) {
            for (index, item) in items.enumerated() {
                if let rule = priceRule(item, at: "\(f.path("rules"))[\(index)]") {
                    rules.append(rule)
                } else {
                    rulesComplete = false
                }
            }
        }
        guard let base, rulesComplete else { return nil }
        return Config.Price(base: base, rules: rules)
    }

    /// `{if: field | {field: value}, usd: "…"}`.
    func priceRule(_ node: Node, at path: String) -> Config.PriceRule? {
        guard let f = fields(node, at: path, allowed: ["if", "usd"]) else { return nil }
        let condition = required(f, "if") { node, path -> Config.PriceCondition? in
            let shape = "expected a field name or a one-entry map {field: value}"
            switch node {
            case .scalar:
                guard let field = nonEmptyText(node, at: path) else { return nil }
                // A misspelt field would never match and silently underprice (CONFIG.md: typos are errors).
                guard GenerationField(rawValue: field) != nil else {
                    report(path, "\(field) is not a request field (one of \(GenerationField.allCases.map(\.rawValue).joined(separator: ", ")))")
                    return nil
                }
                return .has(field: field)
            case .mapping(let mapping) where mapping.count == 1:
                let (key, value) = mapping[mapping.startIndex]
                guard let field = key.scalar?.string, !field.isEmpty else {
                    report(path, shape)
                    return nil
                }
                guard GenerationField(rawValue: field) != nil else {
                    report("\(path).\(field)", "\(field) is not a request field (one of \(GenerationField.allCases.map(\.rawValue).joined(separator: ", ")))")
                    return nil
                }
                guard case .scalar = value else {
                    report("\(path).\(field)", "expected a single value")
                    return nil
                }
                return text(value, at: "\(path).\(field)").map { .equals(field: field, value: $0) }
            default:
                report(path, shape)
                return nil
            }
        }
        let usd = required(f, "usd") { money($0, at: $1) }
        guard let condition, let usd else { return nil }
        return Config.PriceRule(condition: condition, price: usd)
    }

    /// Aliases: a model name or a non-empty list of distinct model names; never a model's name.
    func aliases(_ node: Node?, names: DeclaredNames) -> [Config.Alias] {
        guard let node, let entries = entries(node, at: "aliases") else { return [] }
        var result: [Config.Alias] = []
        for (name, value) in entries {
            let path = "aliases.\(name)"
            if names.models.contains(name) {
                report(path, "shadows the model of the same name")
            }
            let items: [(node: Node, path: String)]
            switch value {
            case .sequence(let sequence):
                items = sequence.enumerated().map { ($1, "\(path)[\($0)]") }
                if items.isEmpty { report(path, "must list at least one model") }
            default:
                items = [(value, path)]
            }
            var targets: [String] = []
            var complete = !items.isEmpty
            for item in items {
                guard let target = nonEmptyText(item.node, at: item.path) else {
                    complete = false
                    continue
                }
                if names.models.contains(target) {
                    if targets.contains(target) {
                        report(item.path, "\"\(target)\" is listed twice")
                        complete = false
                    }
                    targets.append(target)
                } else {
                    report(item.path, names.aliases.contains(target)
                        ? "\"\(target)\" is an alias; alias targets must be models"
                        : "unknown model \"\(target)\"")
                    complete = false
                }
            }
            if complete { result.append(Config.Alias(name: name, targets: targets)) }
        }
        return result
    }

    /// Reads `key` of `f` with `read`, reporting `required` when it is absent.
    func required<Value>(
        _ f: Fields, _ key: String, _ read: (Node, String) -> Value?
    ) -> Value? {
        guard let node = f[key] else {
            report(f.path(key), "required")
            return nil
        }
        return read(node, f.path(key))
    }
}
