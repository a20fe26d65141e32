import Foundation
import GatewayCore
import HTTPServer
import Logging
import Storage
import Webhooks

/// The admin API (API.md §9), master key only: keys, teams, spend, any key's jobs, refunds.
/// Config-declared keys and teams are visible but read-only (409).
struct AdminRoutes: Sendable {
    let keys: KeyRing
    let masterKey: String
    let models: LiveModels
    let jobs: JobRegistry
    let stateStore: any StateStore
    let ledger: Ledger
    let webhooks: WebhookDeliverer
    let reloader: ConfigReloader
    let clock: any GatewayClock
    let logger: Logger

    func register(on router: inout Router) {
        func guarded(_ handler: @escaping @Sendable (HTTPRequest) async -> HTTPResponse) -> HTTPHandler {
            { request in
                if let error = authorize(request) { return .error(error) }
                return await handler(request)
            }
        }
        router.add("POST", "/admin/keys", guarded { await createKey($0) })
        router.add("GET", "/admin/keys", guarded { listKeys($0) })
        router.add("GET", "/admin/keys/{id}", guarded { getKey($0) })
        router.add("PATCH", "/admin/keys/{id}", guarded { await patchKey($0) })
        router.add("DELETE", "/admin/keys/{id}", guarded { await revokeKey($0) })
        router.add("POST", "/admin/teams", guarded { await createTeam($0) })
        router.add("GET", "/admin/teams", guarded { _ in listTeams() })
        router.add("GET", "/admin/teams/{id}", guarded { getTeam($0) })
        router.add("PATCH", "/admin/teams/{id}", guarded { await patchTeam($0) })
        router.add("DELETE", "/admin/teams/{id}", guarded { await deleteTeam($0) })
        router.add("GET", "/admin/spend", guarded { spend($0) })
        router.add("GET", "/admin/generations", guarded { await generations($0) })
        router.add("POST", "/admin/generations/{id}/refund", guarded { await refund($0) })
        router.add("GET", "/admin/webhook-deliveries", guarded { deliveries($0) })
        router.add("POST", "/admin/webhook-deliveries/{id}/retry", guarded { retryDelivery($0) })
        router.add("POST", "/admin/reload", guarded { [reloader] _ in reloader.respond() })
    }

    /// Makes an admin change durable before it is answered; undoes it in memory when the store
    /// cannot take it.
    func persist(_ changes: [StateChange], undo: () -> Void) async -> Bool {
        do throws(StoreError) {
            try await stateStore.commit(changes)
            return true
        } catch {
            undo()
            logger.error("state store write failed; admin change undone", metadata: ["error": "\(error)"])
            return false
        }
    }

    /// 401 without the master key; 403 `admin_only` for a client key (API.md §1).
    func authorize(_ request: HTTPRequest) -> APIError? {
        let token = KeyRing.bearerToken(request.headers["authorization"])
        if let token, ConstantTime.equals(token, masterKey) {
            RequestLog.current?.keyID = "admin"
            return nil
        }
        if let token, let key = keys.authenticate(token: token) {
            RequestLog.current?.keyID = key.id
            return APIError(status: 403, kind: .permission, code: "admin_only", message: "this route takes the master key")
        }
        return APIError(status: 401, kind: .authentication, code: "invalid_api_key", message: "missing or invalid master key")
    }

    // MARK: Keys

    static let keyFields: Set<String> = ["name", "team", "budget", "models", "rpm", "max_concurrent"]

    func createKey(_ request: HTTPRequest) async -> HTTPResponse {
        do throws(APIError) {
            let body = try AdminBody.parse(request.body, allowed: Self.keyFields)
            let token = "kgw_" + Self.randomHex(bytes: 24)
            let secret = Self.newWebhookSecret()
            var record = KeyRecord(
                id: "key_" + Self.randomHex(bytes: 8), name: try body.string("name", required: true) ?? "",
                team: nil, sha256Hex: KeyRing.sha256Hex(token), budget: try body.budget("budget"), models: nil,
                rpm: try body.positiveInteger("rpm"), maxConcurrent: try body.positiveInteger("max_concurrent"),
                webhookSecret: Secret(secret), createdAt: clock.now(), source: .admin)
            record.team = try checkedTeam(body)
            record.models = try checkedModels(body)
            guard keys.insert(record) else { throw APIError.internalError }
            guard await persist([.key(record)], undo: { keys.remove(id: record.id) }) else { return .error(.storageUnavailable) }
            return .json(201, keyJSON(record, extra: ",\"key\":\(JSONText.quoted(token)),\"webhook_secret\":\(JSONText.quoted(secret))"))
        } catch {
            return .error(error)
        }
    }

    func listKeys(_ request: HTTPRequest) -> HTTPResponse {
        page(keys.allKeys.map { ($0.id, keyJSON($0)) }, request)
    }

    func getKey(_ request: HTTPRequest) -> HTTPResponse {
        guard let record = keys.key(id: request.pathParameters["id"] ?? "") else { return .error(.notFound("no such key")) }
        return .json(200, keyJSON(record))
    }

    func patchKey(_ request: HTTPRequest) async -> HTTPResponse {
        guard let original = keys.key(id: request.pathParameters["id"] ?? "") else { return .error(.notFound("no such key")) }
        var record = original
        guard record.source == .admin else { return .error(Self.readOnly("key", record.id)) }
        do throws(APIError) {
            let body = try AdminBody.parse(request.body, allowed: Self.keyFields.union(["rotate_webhook_secret"]))
            if let name = try body.string("name") { record.name = name }
            if body.has("team") { record.team = try checkedTeam(body) }
            if body.has("budget") { record.budget = try body.budget("budget") }
            if body.has("models") { record.models = try checkedModels(body) }
            if body.has("rpm") { record.rpm = try body.positiveInteger("rpm") }
            if body.has("max_concurrent") { record.maxConcurrent = try body.positiveInteger("max_concurrent") }
            var extra = ""
            if try body.bool("rotate_webhook_secret") == true {
                let secret = Self.newWebhookSecret()
                record.webhookSecret = Secret(secret)
                extra = ",\"webhook_secret\":\(JSONText.quoted(secret))"
            }
            keys.update(record)
            guard await persist([.key(record)], undo: { keys.update(original) }) else { return .error(.storageUnavailable) }
            return .json(200, keyJSON(record, extra: extra))
        } catch {
            return .error(error)
        }
    }

    /// Revocation: the key gets 401 from now on; its running jobs still settle.
    func revokeKey(_ request: HTTPRequest) async -> HTTPResponse {
        guard var record = keys.key(id: request.pathParameters["id"] ?? "") else { return .error(.notFound("no such key")) }
        guard record.source == .admin else { return .error(Self.readOnly("key", record.id)) }
        if record.revokedAt == nil {
            let original = record
            record.revokedAt = clock.now()
            keys.update(record)
            guard await persist([.key(record)], undo: { keys.update(original) }) else { return .error(.storageUnavailable) }
        }
        return .json(200, keyJSON(record))
    }

    private func checkedTeam(_ body: AdminBody) throws(APIError) -> String? {
        guard let team = try body.string("team") else { return nil }
        guard keys.team(name: team) != nil else { throw APIError.parameter(.invalid, "team", "no team \(team)") }
        return team
    }

    private func checkedModels(_ body: AdminBody) throws(APIError) -> [String]? {
        guard let models = try body.strings("models") else { return nil }
        let known = Set(self.models.current.names)
        for model in models where !known.contains(model) {
            throw APIError.parameter(.invalid, "models", "\(model) is not a model or alias")
        }
        return models
    }

    func keyJSON(_ record: KeyRecord, extra: String = "") -> String {
        var json = "{\"id\":\(JSONText.quoted(record.id)),\"object\":\"key\",\"name\":\(JSONText.quoted(record.name))"
        json += ",\"team\":" + (record.team.map(JSONText.quoted) ?? "null")
        json += ",\"source\":\"\(record.source.rawValue)\",\"created_at\":\"\(record.createdAt.rfc3339)\""
        json += ",\"revoked_at\":" + (record.revokedAt.map { "\"\($0.rfc3339)\"" } ?? "null")
        json += ",\"models\":" + (record.models.map { "[" + $0.map(JSONText.quoted).joined(separator: ",") + "]" } ?? "null")
        json += ",\"rpm\":" + (record.rpm.map(String.init) ?? "null")
        json += ",\"max_concurrent\":" + (record.maxConcurrent.map(String.init) ?? "null")
        json += ",\"budget\":" + Self.budgetJSON(record.budget)
        let budgets = keys.applicableBudgets(for: record.authenticated)
        json += ",\"spend\":[" + budgets.map { standingJSON(ledger.standing(of: $0, at: clock.now())) }.joined(separator: ",") + "]"
        return json + extra + "}"
    }

    // MARK: Teams

    func createTeam(_ request: HTTPRequest) async -> HTTPResponse {
        do throws(APIError) {
            let body = try AdminBody.parse(request.body, allowed: ["name", "budget"])
            let name = try body.string("name", required: true) ?? ""
            guard name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "/") }) else {
                throw APIError.parameter(.invalid, "name", "name must be visible ASCII without spaces or '/'")
            }
            guard keys.team(name: name) == nil else {
                throw APIError(status: 409, kind: .invalidRequest, code: "already_exists", message: "team \(name) exists", param: "name")
            }
            let team = TeamRecord(name: name, budget: try body.budget("budget"), createdAt: clock.now(), source: .admin)
            keys.upsert(team)
            guard await persist([.team(team)], undo: { _ = keys.removeTeam(name: team.name) }) else { return .error(.storageUnavailable) }
            return .json(201, teamJSON(team))
        } catch {
            return .error(error)
        }
    }

    func listTeams() -> HTTPResponse {
        .json(200, "{\"object\":\"list\",\"data\":[" + keys.allTeams.map(teamJSON).joined(separator: ",") + "],\"next\":null}")
    }

    func getTeam(_ request: HTTPRequest) -> HTTPResponse {
        guard let team = keys.team(name: request.pathParameters["id"] ?? "") else { return .error(.notFound("no such team")) }
        return .json(200, teamJSON(team))
    }

    func patchTeam(_ request: HTTPRequest) async -> HTTPResponse {
        guard let original = keys.team(name: request.pathParameters["id"] ?? "") else { return .error(.notFound("no such team")) }
        var team = original
        guard team.source == .admin else { return .error(Self.readOnly("team", team.name)) }
        do throws(APIError) {
            let body = try AdminBody.parse(request.body, allowed: ["budget"])
            if body.has("budget") { team.budget = try body.budget("budget") }
            keys.upsert(team)
            guard await persist([.team(team)], undo: { keys.upsert(original) }) else { return .error(.storageUnavailable) }
            return .json(200, teamJSON(team))
        } catch {
            return .error(error)
        }
    }

    func deleteTeam(_ request: HTTPRequest) async -> HTTPResponse {
        guard let team = keys.team(name: request.pathParameters["id"] ?? "") else { return .error(.notFound("no such team")) }
        guard team.source == .admin else { return .error(Self.readOnly("team", team.name)) }
        let members = keys.removeTeam(name: team.name)
        guard members.isEmpty else {
            return .error(APIError(status: 409, kind: .invalidRequest, code: "team_in_use", message: "team \(team.name) still has keys: \(members.joined(separator: ", "))"))
        }
        guard await persist([.teamDeleted(name: team.name)], undo: { keys.upsert(team) }) else { return .error(.storageUnavailable) }
        return .json(200, "{\"id\":\(JSONText.quoted(team.name)),\"object\":\"team\",\"deleted\":true}")
    }

    func teamJSON(_ team: TeamRecord) -> String {
        var json = "{\"id\":\(JSONText.quoted(team.name)),\"object\":\"team\",\"name\":\(JSONText.quoted(team.name))"
        json += ",\"source\":\"\(team.source.rawValue)\",\"created_at\":\"\(team.createdAt.rfc3339)\",\"budget\":" + Self.budgetJSON(team.budget)
        if let budget = team.budget {
            json += ",\"spend\":[" + standingJSON(ledger.standing(of: ApplicableBudget(owner: .team(team.name), budget: budget), at: clock.now())) + "]"
        } else {
            json += ",\"spend\":[]"
        }
        return json + "}"
    }

    // MARK: Shared

    static func budgetJSON(_ budget: GatewayConfiguration.Budget?) -> String {
        guard let budget else { return "null" }
        return "{\"limit_usd\":\"\(budget.limit.apiString)\",\"period\":\"\(budget.period.rawValue)\"}"
    }

    func standingJSON(_ standing: BudgetStanding) -> String {
        let (scope, id): (String, String) = {
            switch standing.owner {
            case .key(let id): return ("key", id)
            case .team(let name): return ("team", name)
            }
        }()
        return "{\"scope\":\"\(scope)\",\"id\":\(JSONText.quoted(id)),\"period\":\"\(standing.period.rawValue)\""
            + ",\"window_start\":\"\(standing.windowStart.rfc3339)\",\"resets_at\":" + (standing.resetsAt.map { "\"\($0.rfc3339)\"" } ?? "null")
            + ",\"limit_usd\":\"\(standing.limit.apiString)\",\"spent_usd\":\"\(standing.spent.apiString)\""
            + ",\"reserved_usd\":\"\(standing.reserved.apiString)\",\"remaining_usd\":\"\(standing.remaining.apiString)\"}"
    }

    /// A page of an id-sorted list: `limit` (1…1000, default 100) and `after` (an id).
    func page(_ items: [(id: String, json: String)], _ request: HTTPRequest) -> HTTPResponse {
        let query = request.queryParameters
        var limit = 100
        if let text = query["limit"] {
            guard let value = Int(text), (1...1000).contains(value) else { return .error(.parameter(.invalid, "limit", "limit must be an integer from 1 to 1000")) }
            limit = value
        }
        let after = query["after"] ?? ""
        let remaining = items.filter { after.isEmpty || $0.id > after }
        let shown = remaining.prefix(limit)
        let next = remaining.count > limit ? shown.last.map { JSONText.quoted($0.id) } ?? "null" : "null"
        return .json(200, "{\"object\":\"list\",\"data\":[" + shown.map(\.json).joined(separator: ",") + "],\"next\":\(next)}")
    }

    static func readOnly(_ kind: String, _ id: String) -> APIError {
        APIError(status: 409, kind: .invalidRequest, code: "read_only", message: "\(kind) \(id) is declared in the configuration file and is read-only here")
    }

    static func randomHex(bytes count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return Hex.encode((0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    /// `whsec_` + base64 of 32 random bytes (Standard Webhooks).
    static func newWebhookSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return "whsec_" + Data(bytes).base64EncodedString()
    }

    // MARK: Webhook deliveries

    /// `GET /admin/webhook-deliveries?state=pending|failed|delivered`
    func deliveries(_ request: HTTPRequest) -> HTTPResponse {
        var state: WebhookDelivery.State?
        if let text = request.queryParameters["state"], !text.isEmpty {
            guard let value = WebhookDelivery.State(rawValue: text) else {
                return .error(.parameter(.invalid, "state", "state must be one of pending, failed, delivered"))
            }
            state = value
        }
        return page(webhooks.deliveries(state: state).map { ($0.id, $0.jsonObject) }, request)
    }

    /// `POST /admin/webhook-deliveries/{id}/retry`: send it again now (same webhook-id and body).
    func retryDelivery(_ request: HTTPRequest) -> HTTPResponse {
        let id = request.pathParameters["id"] ?? ""
        guard let current = webhooks.deliveries(state: nil).first(where: { $0.id == id }) else { return .error(.notFound("no such webhook delivery")) }
        guard current.state != .pending else {
            return .error(APIError(status: 409, kind: .invalidRequest, code: "already_pending", message: "the delivery is already pending"))
        }
        guard let delivery = webhooks.retry(id: id) else { return .error(.notFound("no such webhook delivery")) }
        return .json(202, delivery.jsonObject)
    }
}
