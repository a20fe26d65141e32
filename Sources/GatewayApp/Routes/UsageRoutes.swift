import GatewayCore
import HTTPServer

/// `GET /v1/usage` (API.md §3): the calling key's own view of its budgets and its team's, its
/// rate limits, allowed models, and request counts today and in each budget's window.
struct UsageRoutes: Sendable {
    let auth: Authenticator
    let keys: KeyRing
    let ledger: Ledger
    let rateLimiter: RateLimiter
    let clock: any GatewayClock

    func register(on router: inout Router) {
        router.add("GET", "/v1/usage") { request in usage(request) }
    }

    func usage(_ request: HTTPRequest) -> HTTPResponse {
        let key: AuthenticatedKey
        switch auth.requireKey(request) {
        case .success(let found): key = found
        case .failure(let error): return .error(error)
        }
        let now = clock.now()
        let budgets = keys.applicableBudgets(for: key).map { applicable -> String in
            let standing = ledger.standing(of: applicable, at: now)
            let (kind, id): (String, String) = {
                switch applicable.owner {
                case .key(let id): return ("key", id)
                case .team(let name): return ("team", name)
                }
            }()
            let window = Ledger.Window(period: standing.period, start: standing.windowStart)
            return "{\"scope\":\"\(kind)\",\"id\":\(JSONText.quoted(id)),\"period\":\"\(standing.period.rawValue)\""
                + ",\"limit_usd\":\"\(standing.limit.apiString)\",\"spent_usd\":\"\(standing.spent.apiString)\""
                + ",\"reserved_usd\":\"\(standing.reserved.apiString)\",\"remaining_usd\":\"\(standing.remaining.apiString)\""
                + ",\"window_start\":\"\(standing.windowStart.rfc3339)\",\"resets_at\":"
                + (standing.resetsAt.map { "\"\($0.rfc3339)\"" } ?? "null")
                + ",\"requests\":\(rateLimiter.requests(keyID: key.id, in: window))}"
        }
        let counts = rateLimiter.counts(keyID: key.id, at: now)
        let today = Ledger.Window(period: .daily, start: BudgetWindow.start(of: .daily, containing: now))
        let models = key.allowedModels.map { "[" + $0.sorted().map(JSONText.quoted).joined(separator: ",") + "]" } ?? "null"
        var json = "{\"object\":\"usage\",\"key\":{\"id\":\(JSONText.quoted(key.id)),\"team\":" + (key.team.map(JSONText.quoted) ?? "null") + "}"
        json += ",\"budgets\":[" + budgets.joined(separator: ",") + "]"
        json += ",\"rate_limits\":{\"rpm\":" + (key.limits.rpm.map(String.init) ?? "null")
        json += ",\"max_concurrent\":" + (key.limits.maxConcurrent.map(String.init) ?? "null")
        json += ",\"requests_last_minute\":\(counts.requestsLastMinute),\"running_jobs\":\(counts.running)}"
        json += ",\"models\":\(models),\"requests_today\":\(rateLimiter.requests(keyID: key.id, in: today))}"
        return .json(200, json)
    }
}
