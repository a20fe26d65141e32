import Foundation
import GatewayCore
import NIOHTTP1
import Testing
@testable import GatewayApp

/// `/metrics` and the access log (issue: operations), over real sockets.
@Suite("Metrics and access log")
struct ObservabilityTests {
    /// Samples of a Prometheus text exposition: `name{labels}` → value (comments skipped).
    static func samples(_ text: String) -> [String: Double] {
        var samples: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            samples[String(line[..<space])] = value
        }
        return samples
    }

    static let keys = """
        teams:
          design: {budget: {limit_usd: "10.00", period: monthly}}
        keys:
          - {id: key-a, name: "A", team: design, key: "\(GatewayHarness.keyA)", budget: {limit_usd: "1.000", period: daily}}
          - {id: key-b, name: "B", key: "\(GatewayHarness.keyB)"}
        """

    @Test func countersMoveWithTrafficAndSpendEqualsTheLedger() async throws {
        let harness = try await GatewayHarness(keysYAML: Self.keys)
        let before = Self.samples(try await harness.send(.GET, "/metrics", key: nil).text)
        var ids: [String] = []
        for model in ["krea-2-medium", "krea-2-medium", "krea-2-turbo"] {
            let reply = try await harness.generate(#"{"model":"\#(model)","prompt":"a"}"#)
            ids.append(try #require(reply.json["id"] as? String))
        }
        for id in ids { _ = try await harness.waitTerminal(id) }
        let held = try await harness.generate(#"{"model":"krea-2-medium","prompt":"slow [sim:never]"}"#)
        #expect(held.status == 202)
        _ = try await harness.send(.GET, "/v1/nothing-here")

        let reply = try await harness.send(.GET, "/metrics", key: nil)
        #expect(reply.status == 200)
        #expect(reply.header("Content-Type")?.hasPrefix("text/plain; version=0.0.4") == true)
        let after = Self.samples(reply.text)
        let posted = #"gateway_http_requests_total{route="/v1/generations",method="POST",status="202"}"#
        #expect((after[posted] ?? 0) - (before[posted] ?? 0) == 4)
        #expect((after[#"gateway_http_requests_total{route="/v1/generations/{id}",method="GET",status="200"}"#] ?? 0) >= 3)
        #expect(after[#"gateway_http_requests_total{route="unmatched",method="GET",status="404"}"#] == 1)
        #expect(after[#"gateway_http_request_duration_seconds_count{route="/v1/generations",method="POST"}"#] == 4)
        #expect(after[#"gateway_upstream_requests_total{provider="krea",operation="submit",outcome="ok"}"#] == 3)
        #expect(after[#"gateway_upstream_requests_total{provider="evolink",operation="submit",outcome="ok"}"#] == 1)
        #expect(after[#"gateway_jobs{status="completed"}"#] == 3)

        // Spend and holds, by key/team/model and per budget, equal the ledger.
        let now = Timestamp.now()
        let keyBudget = ApplicableBudget(owner: .key("key-a"), budget: .init(limit: Money(micros: 1_000_000), period: .daily))
        let teamBudget = ApplicableBudget(owner: .team("design"), budget: .init(limit: Money(micros: 10_000_000), period: .monthly))
        let keyStanding = harness.application.ledger.standing(of: keyBudget, at: now)
        let teamStanding = harness.application.ledger.standing(of: teamBudget, at: now)
        #expect(keyStanding.spent == Money(micros: 66_700) && keyStanding.reserved == Money(micros: 30_000))
        #expect(after[#"gateway_budget_spent_usd{scope="key",id="key-a",period="daily"}"#] == keyStanding.spent.dollars)
        #expect(after[#"gateway_budget_reserved_usd{scope="key",id="key-a",period="daily"}"#] == keyStanding.reserved.dollars)
        #expect(after[#"gateway_budget_remaining_usd{scope="key",id="key-a",period="daily"}"#] == keyStanding.remaining.dollars)
        #expect(after[#"gateway_budget_spent_usd{scope="team",id="design",period="monthly"}"#] == teamStanding.spent.dollars)
        #expect(after[#"gateway_spend_usd{key="key-a",team="design",model="krea-2-medium"}"#] == 0.06)
        #expect(after[#"gateway_spend_usd{key="key-a",team="design",model="krea-2-turbo"}"#] == 0.0067)
        #expect(after[#"gateway_reserved_usd{key="key-a",team="design",model="krea-2-medium"}"#] == 0.03)
        #expect(after["gateway_open_connections"].map { $0 >= 1 } == true)
        #expect(after["gateway_poller_backlog"] == 0)
        await harness.stop()
    }

    @Test func aBearerTokenGuardsMetricsAndDisabledMetricsAreNotServed() async throws {
        let guarded = try await GatewayHarness(extraYAML: #"metrics: {enabled: true, bearer_token: "scrape-token"}"#)
        #expect(try await guarded.send(.GET, "/metrics", key: nil).status == 401)
        #expect(try await guarded.send(.GET, "/metrics", key: GatewayHarness.keyA).status == 401)
        #expect(try await guarded.send(.GET, "/metrics", key: "scrape-token").status == 200)
        await guarded.stop()
        let disabled = try await GatewayHarness(extraYAML: "metrics: {enabled: false}")
        #expect(try await disabled.send(.GET, "/metrics", key: nil).status == 404)
        await disabled.stop()
    }

    @Test func everyRequestGetsOneAccessLogLineWithoutSecrets() async throws {
        let sink = LineSink.collecting()
        let harness = try await GatewayHarness(logSink: sink)
        let created = try await harness.generate(#"{"model":"krea-2-medium","prompt":"private words"}"#, headers: [("X-Request-Id", "trace-123")])
        let id = try #require(created.json["id"] as? String)
        _ = try await harness.send(.GET, "/v1/generations/\(id)")
        _ = try await harness.send(.GET, "/v1/models", key: "kgw_wrong_key")
        await harness.stop()
        let access = sink.lines.compactMap { line -> [String: Any]? in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], object["message"] as? String == "request" else { return nil }
            return object
        }
        #expect(access.count == 3)
        let post = try #require(access.first { $0["method"] as? String == "POST" })
        #expect(post["request_id"] as? String == "trace-123")
        #expect(post["route"] as? String == "/v1/generations")
        #expect(post["status"] as? String == "202")
        #expect(post["key_id"] as? String == "key-a")
        #expect(Double(post["latency_ms"] as? String ?? "") != nil)
        #expect(Double(post["upstream_ms"] as? String ?? "") != nil, "the submission called the provider")
        let get = try #require(access.first { $0["route"] as? String == "/v1/generations/{id}" })
        #expect(get["upstream_ms"] == nil, "a read does not call the provider")
        let refused = try #require(access.first { $0["route"] as? String == "/v1/models" })
        #expect(refused["status"] as? String == "401" && refused["key_id"] == nil)
        for line in sink.lines {
            for secret in [GatewayHarness.keyA, "kgw_wrong_key", "private words", id + "/"] {
                #expect(!line.contains(secret), "a log line leaks \(secret)")
            }
        }
    }
}
