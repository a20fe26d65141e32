import AsyncHTTPClient
import Foundation
import GatewayCore
import NIOHTTP1
import Providers
import Testing
@testable import GatewayApp

/// Exact money end to end (issue: budgets): admission under concurrency over real sockets.
@Suite("Budgets end to end", .serialized)
struct BudgetTests {
    static let keyC = "kgw_test_cccccccccccccccccccccccccccccccccccc"

    /// Submits `count` requests at once and returns their statuses.
    static func burst(_ harness: GatewayHarness, count: Int, keys: [String], body: String = #"{"model":"krea-2-medium","prompt":"p"}"#) async -> [Int] {
        await withTaskGroup(of: Int.self) { group in
            for index in 0..<count {
                group.addTask { (try? await harness.generate(body, key: keys[index % keys.count]).status) ?? -1 }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
    }

    /// Waits until nothing is reserved any more (every admitted job settled).
    static func settled(_ harness: GatewayHarness) async throws {
        for _ in 0..<500 {
            if harness.application.ledger.allTotals.allSatisfy({ $0.reserved == .zero }) { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw HarnessError(description: "reservations did not settle")
    }

    static func spent(_ harness: GatewayHarness, _ owner: BudgetOwner) -> Money {
        harness.application.ledger.allTotals.filter { $0.owner == owner }.reduce(Money.zero) { $0 + $1.spent }
    }

    @Test func keyBudget_500SimultaneousSubmissionsAdmitExactlyWhatFits() async throws {
        let harness = try await GatewayHarness(keysYAML: """
            keys:
              - {id: key-a, name: "A", key: "\(GatewayHarness.keyA)", budget: {limit_usd: "0.300", period: daily}}
            """)
        do {
            let statuses = await Self.burst(harness, count: 500, keys: [GatewayHarness.keyA])
            #expect(statuses.filter { $0 == 202 }.count == 10)
            #expect(statuses.filter { $0 == 402 }.count == 490)
            try await Self.settled(harness)
            #expect(Self.spent(harness, .key("key-a")) == Money(parsing: "0.300")!)
            let refused = try await harness.generate(#"{"model":"krea-2-medium","prompt":"p"}"#)
            #expect(refused.status == 402)
            #expect(refused.error["type"] as? String == "budget_error")
            #expect((refused.error["message"] as? String)?.contains("key key-a") == true)
        } catch { Issue.record(error) }
        await harness.stop()
    }

    @Test func teamBudget_SharedByThreeKeysAdmitsExactlyWhatFits() async throws {
        let harness = try await GatewayHarness(keysYAML: """
            teams:
              design: {budget: {limit_usd: "0.150", period: monthly}}
            keys:
              - {id: key-a, name: "A", team: design, key: "\(GatewayHarness.keyA)"}
              - {id: key-b, name: "B", team: design, key: "\(GatewayHarness.keyB)"}
              - {id: key-c, name: "C", team: design, key: "\(Self.keyC)"}
            """)
        do {
            let statuses = await Self.burst(harness, count: 500, keys: [GatewayHarness.keyA, GatewayHarness.keyB, Self.keyC])
            #expect(statuses.filter { $0 == 202 }.count == 5)
            #expect(statuses.filter { $0 == 402 }.count == 495)
            try await Self.settled(harness)
            #expect(Self.spent(harness, .team("design")) == Money(parsing: "0.150")!)
        } catch { Issue.record(error) }
        await harness.stop()
    }

    @Test func failedJobs_ReleaseTheirMoneyForLaterRequests() async throws {
        let harness = try await GatewayHarness(keysYAML: """
            keys:
              - {id: key-a, name: "A", key: "\(GatewayHarness.keyA)", budget: {limit_usd: "0.300", period: weekly}}
            """)
        do {
            let failing = await Self.burst(harness, count: 40, keys: [GatewayHarness.keyA], body: #"{"model":"krea-2-medium","prompt":"p [sim:fail]"}"#)
            #expect(failing.filter { $0 == 202 }.count == 10)
            try await Self.settled(harness)
            #expect(Self.spent(harness, .key("key-a")) == .zero)
            let succeeding = await Self.burst(harness, count: 40, keys: [GatewayHarness.keyA])
            #expect(succeeding.filter { $0 == 202 }.count == 10)
            try await Self.settled(harness)
            #expect(Self.spent(harness, .key("key-a")) == Money(parsing: "0.300")!)
        } catch { Issue.record(error) }
        await harness.stop()
    }

    @Test func settlement_RacingCallbackAndPollChargeOnce() async throws {
        let harness = try await GatewayHarness(pollInterval: 3600, keysYAML: """
            keys:
              - {id: key-a, name: "A", key: "\(GatewayHarness.keyA)", budget: {limit_usd: "1.000", period: daily}}
            """)
        do {
            let created = try await harness.generate(#"{"model":"krea-2-medium","prompt":"p [sim:never]"}"#)
            let id = try #require(created.json["id"] as? String)
            let job = try #require(harness.application.jobs.job(id: id))
            let completed = ProviderJobSnapshot(providerJobID: job.providerJobID ?? "", status: .completed, providerStatus: "completed", resultURLs: ["https://i/1.png"])
            let tracker = harness.application.tracker
            let terminalTransitions = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<64 {
                    group.addTask {
                        if case .becameTerminal = tracker.apply(completed, to: id) { return true }
                        return false
                    }
                }
                return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(terminalTransitions == 1)
            #expect(Self.spent(harness, .key("key-a")) == Money(parsing: "0.030")!)
            #expect(harness.application.ledger.reservation(jobID: id) == nil)
        } catch { Issue.record(error) }
        await harness.stop()
    }

    static let priceTable: [(String, String)] = [
        (#"{"model":"krea-2-medium","prompt":"p"}"#, "0.030"),
        (#"{"model":"krea-2-medium","prompt":"p","image_style_references":[{"url":"https://a/1.png"}]}"#, "0.035"),
        (#"{"model":"krea-2-medium","prompt":"p","moodboards":[{"id":"3f1c2a9e-8b7d-4c6e-9a5f-0e1d2c3b4a59"}]}"#, "0.040"),
        (#"{"model":"krea-2-medium","prompt":"p","moodboards":[{"id":"3f1c2a9e-8b7d-4c6e-9a5f-0e1d2c3b4a59"}],"image_style_references":[{"url":"https://a/1.png"}]}"#, "0.040"),
        (#"{"model":"krea-2-large","prompt":"p"}"#, "0.060"),
        (#"{"model":"krea-2-large","prompt":"p","image_style_references":[{"url":"https://a/1.png"}]}"#, "0.065"),
        (#"{"model":"krea-2-large","prompt":"p","moodboards":[{"id":"3f1c2a9e-8b7d-4c6e-9a5f-0e1d2c3b4a59"}]}"#, "0.070"),
        (#"{"model":"krea-2-large","prompt":"p","moodboards":[{"id":"3f1c2a9e-8b7d-4c6e-9a5f-0e1d2c3b4a59"}],"image_style_references":[{"url":"https://a/1.png"}]}"#, "0.070"),
        (#"{"model":"krea-2-turbo","prompt":"p"}"#, "0.0067"),
        (#"{"model":"krea-2-turbo","prompt":"p","quality":"1K"}"#, "0.0067"),
        (#"{"model":"krea-2-turbo","prompt":"p","quality":"2K"}"#, "0.027"),
    ]

    @Test func prices_EveryRuleOfTheProviderTablesEndToEnd() async throws {
        let harness = try await GatewayHarness()
        do {
            for (body, price) in Self.priceTable {
                let reply = try await harness.generate(body)
                #expect(reply.status == 202, "\(body)")
                #expect(reply.json["cost_usd"] as? String == price, "\(body)")
                #expect(reply.header("X-Gateway-Cost-USD") == price, "\(body)")
                #expect(reply.header("X-Budget-Remaining-USD") == nil)  // no budget applies to key-a here
            }
        } catch { Issue.record(error) }
        await harness.stop()
    }

    @Test func rateLimits_RpmAndConcurrencyAnswer429WithRetryAfter() async throws {
        let harness = try await GatewayHarness(keysYAML: """
            keys:
              - {id: key-a, name: "A", key: "\(GatewayHarness.keyA)", rpm: 3}
              - {id: key-b, name: "B", key: "\(GatewayHarness.keyB)", max_concurrent: 2}
            """)
        do {
            for _ in 0..<3 { #expect(try await harness.generate(#"{"model":"krea-2-medium","prompt":"p"}"#).status == 202) }
            let limited = try await harness.generate(#"{"model":"krea-2-medium","prompt":"p"}"#)
            #expect(limited.status == 429)
            #expect(limited.error["code"] as? String == "rate_limited")
            #expect(Int(limited.header("Retry-After") ?? "") ?? 0 >= 1)

            for _ in 0..<2 { #expect(try await harness.generate(#"{"model":"krea-2-medium","prompt":"p [sim:never]"}"#, key: GatewayHarness.keyB).status == 202) }
            let busy = try await harness.generate(#"{"model":"krea-2-medium","prompt":"p"}"#, key: GatewayHarness.keyB)
            #expect(busy.status == 429)
            #expect(busy.error["code"] as? String == "too_many_concurrent_jobs")
            #expect(busy.header("Retry-After") != nil)
        } catch { Issue.record(error) }
        await harness.stop()
    }

    @Test func usage_ShowsBudgetsLimitsAndCounts() async throws {
        let harness = try await GatewayHarness(keysYAML: """
            teams:
              design: {budget: {limit_usd: "100.00", period: monthly}}
            keys:
              - {id: key-a, name: "A", team: design, key: "\(GatewayHarness.keyA)", budget: {limit_usd: "20.00", period: daily}, rpm: 120, max_concurrent: 20, models: [krea-2-medium]}
            """)
        do {
            let created = try await harness.generate(#"{"model":"krea-2-medium","prompt":"p [sim:never]"}"#)
            #expect(created.header("X-Budget-Remaining-USD") == "19.970")
            let usage = try await harness.send(.GET, "/v1/usage")
            #expect(usage.status == 200)
            let budgets = try #require(usage.json["budgets"] as? [[String: Any]])
            #expect(budgets.count == 2)
            let key = try #require(budgets.first { $0["scope"] as? String == "key" })
            #expect(key["limit_usd"] as? String == "20.000")
            #expect(key["reserved_usd"] as? String == "0.030")
            #expect(key["remaining_usd"] as? String == "19.970")
            #expect(key["period"] as? String == "daily")
            #expect(key["resets_at"] is String)
            let team = try #require(budgets.first { $0["scope"] as? String == "team" })
            #expect(team["id"] as? String == "design")
            let limits = try #require(usage.json["rate_limits"] as? [String: Any])
            #expect(limits["rpm"] as? Int == 120 && limits["running_jobs"] as? Int == 1)
            #expect(usage.json["models"] as? [String] == ["krea-2-medium"])
            #expect(usage.json["requests_today"] as? Int == 1)
        } catch { Issue.record(error) }
        await harness.stop()
    }
}
