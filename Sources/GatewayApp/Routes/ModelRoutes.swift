import GatewayCore
import HTTPServer

/// `GET /v1/models` (API.md §3): the models and aliases this key may use, with provider,
/// supported values and fields, and price rules.
struct ModelRoutes: Sendable {
    let models: LiveModels
    let auth: Authenticator

    func register(on router: inout Router) {
        router.add("GET", "/v1/models") { request in list(request) }
    }

    func list(_ request: HTTPRequest) -> HTTPResponse {
        let allowed: Set<String>?
        switch auth.caller(request) {
        case .none: return .error(.invalidAPIKey())
        case .master: allowed = nil
        case .key(let key): allowed = key.allowedModels
        }
        var entries: [String] = []
        let table = models.current
        for name in table.names where allowed == nil || allowed!.contains(name) {
            guard let targets = table.resolve(name), let first = targets.first else { continue }
            entries.append(Self.entry(name: name, isAlias: table.aliasNames.contains(name), targets: targets, first: first))
        }
        return .json(200, "{\"object\":\"list\",\"data\":[" + entries.joined(separator: ",") + "]}")
    }

    static func entry(name: String, isAlias: Bool, targets: [ModelTable.Target], first: ModelTable.Target) -> String {
        let capabilities = first.capabilities
        let fields = GenerationField.allCases.filter { capabilities.optionalFields.contains($0) }.map { JSONText.quoted($0.rawValue) }
        var json = "{\"id\":\(JSONText.quoted(name)),\"object\":\"model\",\"type\":\"\(isAlias ? "alias" : "model")\""
        json += ",\"provider\":\(JSONText.quoted(first.model.provider)),\"provider_model\":\(JSONText.quoted(first.model.upstreamModel))"
        if isAlias {
            json += ",\"targets\":[" + targets.map { JSONText.quoted($0.model.name) }.joined(separator: ",") + "]"
        }
        json += ",\"aspect_ratios\":[" + capabilities.aspectRatios.map(JSONText.quoted).joined(separator: ",") + "]"
        json += ",\"resolutions\":[" + capabilities.resolutions.map(JSONText.quoted).joined(separator: ",") + "]"
        json += ",\"supported_parameters\":[" + fields.joined(separator: ",") + "]"
        json += ",\"pricing\":" + pricing(first.model.price)
        return json + "}"
    }

    static func pricing(_ price: GatewayConfiguration.Price) -> String {
        let rules = price.rules.map { rule -> String in
            let condition: String
            switch rule.condition {
            case .has(let field): condition = JSONText.quoted(field)
            case .equals(let field, let value): condition = "{\(JSONText.quoted(field)):\(JSONText.quoted(value))}"
            }
            return "{\"if\":\(condition),\"usd\":\"\(rule.price.apiString)\"}"
        }
        return "{\"currency\":\"usd\",\"unit\":\"image\",\"base_usd\":\"\(price.base.apiString)\",\"rules\":[" + rules.joined(separator: ",") + "]}"
    }
}
