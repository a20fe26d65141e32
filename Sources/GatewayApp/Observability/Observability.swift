import GatewayCore
import HTTPServer
import Logging
import Storage

/// `/metrics` and the per-request wrapper: request id, one access-log line, request metrics.
struct Observability: Sendable {
    let metrics: GatewayMetrics
    let settings: GatewayConfiguration.Metrics
    let jobs: JobRegistry
    let ledger: Ledger
    let keys: KeyRing
    let tracker: JobTracker
    let outbox: JournaledOutbox
    let stateStore: any StateStore
    let openConnections: @Sendable () -> Int

    func register(on router: inout Router) {
        guard settings.enabled else { return }
        router.add("GET", "/metrics") { request in scrape(request) }
    }

    /// Wraps the router: every answer gets `X-Request-Id` (the caller's, when it sent a usable
    /// one), is counted and timed by route, and is logged once — request id, method, route (the
    /// pattern, not the path), status, latency, the key id (never the key) and the time spent in
    /// providers. No bodies, no headers, no secrets.
    func instrument(_ routes: @escaping HTTPHandler, logger: Logger) -> HTTPHandler {
        let metrics = self.metrics
        return { request in
            let requestID = RequestID.resolve(request.headers["x-request-id"])
            let log = RequestLog()
            let start = ContinuousClock.now
            var response = await RequestLog.$current.withValue(log) { await routes(request) }
            let elapsed = ContinuousClock.now - start
            response.headers.replaceOrAdd(name: "X-Request-Id", value: requestID)
            let route = response.route ?? "unmatched", method = request.method, status = response.status
            // Counted before the answer leaves, so a scrape that follows it sees it.
            metrics.request(route: route, method: method, status: status, duration: elapsed)
            guard logger.logLevel <= .info else { return response }
            // The access log line is written once the answer is on its way: formatting it and a
            // slow log sink (a full stderr pipe) do not hold up the client.
            let earlier = response.afterResponse
            response.afterResponse = {
                earlier?()
                var metadata: Logger.Metadata = [
                    "request_id": "\(requestID)", "method": "\(method)", "route": "\(route)", "status": "\(status)",
                    "latency_ms": "\(Self.milliseconds(elapsed))",
                ]
                if let key = log.keyID { metadata["key_id"] = "\(key)" }
                if let upstream = log.upstreamMilliseconds { metadata["upstream_ms"] = "\(Self.rounded(upstream))" }
                logger.info("request", metadata: metadata)
            }
            return response
        }
    }

    // MARK: GET /metrics

    func scrape(_ request: HTTPRequest) -> HTTPResponse {
        if let token = settings.bearerToken {
            guard let given = KeyRing.bearerToken(request.headers["authorization"]), ConstantTime.equals(given, token.value) else {
                var response = GatewayApplication.render(APIError(status: 401, kind: .authentication, code: "invalid_api_key", message: "/metrics needs the metrics bearer token"))
                response.headers.add(name: "WWW-Authenticate", value: "Bearer")
                return response
            }
        }
        refreshGauges()
        return HTTPResponse(status: 200, headers: ["Content-Type": "text/plain; version=0.0.4; charset=utf-8"], body: metrics.exposition())
    }

    /// Gauges read from the working set at scrape time.
    private func refreshGauges() {
        struct Group: Hashable { var key: String, team: String, model: String }
        var byStatus: [JobStatus: Int] = [:], spent: [Group: Money] = [:], reserved: [Group: Money] = [:]
        for (tallied, figures) in jobs.tally.groups {
            byStatus[tallied.status, default: 0] += figures.count
            let group = Group(key: tallied.ownerKeyID, team: tallied.team ?? "", model: tallied.model)
            switch tallied.billingStatus {
            case .charged: spent[group, default: .zero] += figures.cost
            case .reserved: reserved[group, default: .zero] += figures.cost
            case .released: _ = spent[group, default: .zero]
            }
        }
        for status in JobStatus.allCases {
            metrics.set("gateway_jobs", [("status", status.rawValue)], Double(byStatus[status] ?? 0))
        }
        // Money by key, team and model: what every job admitted holds or spent (USD).
        for (group, amount) in spent {
            metrics.set("gateway_spend_usd", [("key", group.key), ("team", group.team), ("model", group.model)], amount.dollars)
        }
        for group in Set(spent.keys).union(reserved.keys) {
            metrics.set("gateway_reserved_usd", [("key", group.key), ("team", group.team), ("model", group.model)],
                        (reserved[group] ?? .zero).dollars)
        }
        // Every budget in its current window, exactly as the ledger has it.
        let now = Timestamp.now()
        var budgets: [ApplicableBudget] = []
        for key in keys.allKeys where key.revokedAt == nil {
            if let budget = key.budget { budgets.append(ApplicableBudget(owner: .key(key.id), budget: budget)) }
        }
        for team in keys.allTeams {
            if let budget = team.budget { budgets.append(ApplicableBudget(owner: .team(team.name), budget: budget)) }
        }
        for budget in budgets {
            let standing = ledger.standing(of: budget, at: now)
            let (scope, id): (String, String) = switch budget.owner {
            case .key(let id): ("key", id)
            case .team(let name): ("team", name)
            }
            let labels = [("scope", scope), ("id", id), ("period", standing.period.rawValue)]
            metrics.set("gateway_budget_limit_usd", labels, standing.limit.dollars)
            metrics.set("gateway_budget_spent_usd", labels, standing.spent.dollars)
            metrics.set("gateway_budget_reserved_usd", labels, standing.reserved.dollars)
            metrics.set("gateway_budget_remaining_usd", labels, standing.remaining.dollars)
        }
        for state in WebhookDelivery.State.allCases {
            metrics.set("gateway_webhook_deliveries", [("state", state.rawValue)], Double(outbox.deliveries(state: state).count))
        }
        metrics.set("gateway_open_connections", [], Double(openConnections()))
        metrics.set("gateway_poller_backlog", [], Double(tracker.pollerBacklog))
        metrics.set("gateway_waiting_requests", [], Double(jobs.waiterCount))
        let resident = jobs.residentCounts
        metrics.set("gateway_jobs_in_memory", [("state", "open")], Double(resident.open))
        metrics.set("gateway_jobs_in_memory", [("state", "finished")], Double(resident.finished))
        metrics.set("gateway_state_store_failing", [], stateStore.failure == nil ? 0 : 1)
    }

    static func milliseconds(_ duration: Duration) -> Double { rounded(Double(duration.nanoseconds) / 1_000_000) }

    static func rounded(_ milliseconds: Double) -> Double { (milliseconds * 1000).rounded() / 1000 }
}

extension Money {
    /// The amount in US dollars as a `Double` (for metrics only; money itself never goes through
    /// floating point).
    var dollars: Double { Double(micros) / Double(Money.microsPerDollar) }
}
