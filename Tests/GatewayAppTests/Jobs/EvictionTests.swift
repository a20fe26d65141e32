import Foundation
import GatewayCore
import Storage
import Testing
@testable import GatewayApp

/// Finished jobs leave memory (so a long-running gateway's memory stays flat) and the API does
/// not notice: reads, lists, refunds, reports and metrics over SQLite are the same as before.
@Suite("Finished jobs leaving memory")
struct EvictionTests {
    static func waitUntil(_ condition: () -> Bool, timeout: Duration = .seconds(10)) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            guard ContinuousClock.now < deadline else { Issue.record("timed out"); return }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Submits `count` jobs and waits until all are finished; returns their ids, oldest first.
    static func finishedJobs(_ harness: GatewayHarness, count: Int, key: String = GatewayHarness.keyA) async throws -> [String] {
        var ids: [String] = []
        for index in 0..<count {
            let reply = try await harness.generate(#"{"model":"krea-2-medium","prompt":"p\#(index)"}"#, key: key)
            #expect(reply.status == 202)
            ids.append(try #require(reply.json["id"] as? String))
        }
        try await waitUntil { harness.application.jobs.residentJobs.allSatisfy(\.status.isTerminal) }
        return ids
    }

    @Test func overSQLiteEveryReadStillFindsJobsThatLeftMemory() async throws {
        let directory = DurabilityTests.temporaryStateDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let keys = """
            teams:
              design: {budget: {limit_usd: "100.000", period: monthly}}
            keys:
              - {id: key-a, name: "A", team: design, key: "\(GatewayHarness.keyA)", budget: {limit_usd: "100.000", period: total}}
              - {id: key-b, name: "B", key: "\(GatewayHarness.keyB)"}
            """
        let harness = try await GatewayHarness(
            stepDelay: .milliseconds(20), pollInterval: 0.02, keysYAML: keys, stateDirectory: directory, keepingFinishedJobs: 4)
        let ids = try await Self.finishedJobs(harness, count: 30)
        // Jobs must go (two sweeps: a finished job waits one whole sweep), down to the newest four.
        try await Self.waitUntil { harness.application.jobs.residentCounts.finished == 4 }
        let gone = ids.filter { harness.application.jobs.job(id: $0) == nil }
        #expect(gone.count == 26)

        // GET answers from the store, with the same body it had in memory.
        for id in gone.prefix(5) {
            let reply = try await harness.send(.GET, "/v1/generations/\(id)")
            #expect(reply.status == 200 && reply.json["status"] as? String == "completed", "\(id): \(reply.text)")
        }
        #expect(try await harness.send(.GET, "/v1/generations/\(gone[0])", key: GatewayHarness.keyB).status == 404)
        #expect(try await harness.send(.GET, "/jobs/\(gone[1])").json["status"] as? String == "completed")
        // DELETE of a finished job that left memory: 409, as for any finished job.
        #expect(try await harness.send(.DELETE, "/v1/generations/\(gone[2])").status == 409)

        // A list pages through all thirty, newest first, across memory and the store.
        var listed: [String] = [], cursor: String?
        repeat {
            let page = try await harness.send(.GET, "/v1/generations?limit=7" + (cursor.map { "&after=\($0)" } ?? ""))
            let data = page.json["data"] as? [[String: Any]] ?? []
            listed += data.compactMap { $0["id"] as? String }
            cursor = page.json["next"] as? String
        } while cursor != nil
        #expect(listed == ids.reversed())
        let admin = try await harness.send(.GET, "/admin/generations?key=key-a&status=completed&limit=100", key: GatewayHarness.masterKey)
        #expect((admin.json["data"] as? [[String: Any]])?.count == 30)

        // Reports and metrics count every job, wherever it is.
        let spend = try await harness.send(.GET, "/admin/spend?group_by=key", key: GatewayHarness.masterKey)
        let row = (spend.json["data"] as? [[String: Any]])?.first { $0["group"] as? String == "key-a" }
        #expect(row?["requests"] as? Int == 30 && row?["spent_usd"] as? String == "0.900", "\(spend.text)")
        let metrics = try await harness.send(.GET, "/metrics", key: nil)
        #expect(metrics.text.contains(#"gateway_jobs{status="completed"} 30"#))

        // A refund of a job that left memory: once, and the ledger moves by its price.
        let spentBefore = harness.application.ledger.allTotals.filter { $0.owner == .key("key-a") }.reduce(Money.zero) { $0 + $1.spent }
        let refund = try await harness.send(.POST, "/admin/generations/\(gone[3])/refund", key: GatewayHarness.masterKey)
        #expect(refund.status == 200 && refund.json["billing_status"] as? String == "released", "\(refund.status) \(refund.text)")
        #expect(try await harness.send(.POST, "/admin/generations/\(gone[3])/refund", key: GatewayHarness.masterKey).status == 409)
        let spentAfter = harness.application.ledger.allTotals.filter { $0.owner == .key("key-a") }.reduce(Money.zero) { $0 + $1.spent }
        #expect(spentBefore - spentAfter == Money(micros: 30_000))
        let afterRefund = try await harness.send(.GET, "/admin/spend?group_by=key", key: GatewayHarness.masterKey)
        let refunded = (afterRefund.json["data"] as? [[String: Any]])?.first { $0["group"] as? String == "key-a" }
        #expect(refunded?["spent_usd"] as? String == "0.870")

        // A late callback for a job that left memory changes nothing; an unknown one is still 404.
        let tokens = CallbackToken(masterKey: GatewayHarness.masterKey)
        #expect(try await harness.send(.POST, "/v1/provider-callbacks/\(gone[4])/\(tokens.token(for: gone[4]))", key: nil, json: "{}").status == 200)
        #expect(try await harness.send(.POST, "/v1/provider-callbacks/gen_unknown/\(tokens.token(for: "gen_unknown"))", key: nil, json: "{}").status == 404)

        // After a restart: only the newest finished jobs are loaded, the totals are whole.
        try await harness.restart()
        #expect(harness.application.jobs.residentCounts.finished <= 4)
        let again = try await harness.send(.GET, "/admin/spend?group_by=key", key: GatewayHarness.masterKey)
        let restored = (again.json["data"] as? [[String: Any]])?.first { $0["group"] as? String == "key-a" }
        #expect(restored?["requests"] as? Int == 30 && restored?["spent_usd"] as? String == "0.870", "\(again.text)")
        #expect(try await harness.send(.GET, "/v1/generations/\(ids[0])").status == 200)
        let restoredSpent = harness.application.ledger.allTotals.filter { $0.owner == .key("key-a") }.reduce(Money.zero) { $0 + $1.spent }
        #expect(restoredSpent == spentAfter)
        await harness.stop()
    }

    @Test func memoryOnlyForgetsOldFinishedJobsButNotTheirMoney() async throws {
        let harness = try await GatewayHarness(stepDelay: .milliseconds(20), pollInterval: 0.02, keepingFinishedJobs: 3)
        let ids = try await Self.finishedJobs(harness, count: 12)
        try await Self.waitUntil { harness.application.jobs.residentCounts.finished == 3 }
        // Exactly the three that finished last are still there; the others are gone (404).
        var found: [String] = []
        for id in ids where try await harness.send(.GET, "/v1/generations/\(id)").status == 200 { found.append(id) }
        #expect(Set(found) == Set(harness.application.jobs.residentJobs.map(\.id)) && found.count == 3)
        let list = try await harness.send(.GET, "/v1/generations?limit=100")
        #expect((list.json["data"] as? [[String: Any]])?.count == 3)
        let spend = try await harness.send(.GET, "/admin/spend?group_by=model", key: GatewayHarness.masterKey)
        let row = (spend.json["data"] as? [[String: Any]])?.first { $0["group"] as? String == "krea-2-medium" }
        #expect(row?["requests"] as? Int == 12 && row?["spent_usd"] as? String == "0.360", "\(spend.text)")
        await harness.stop()
    }

    @Test func openJobsNeverLeaveMemory() async throws {
        let harness = try await GatewayHarness(stepDelay: .seconds(30), pollInterval: 0.05, keepingFinishedJobs: 0)
        var ids: [String] = []
        for index in 0..<5 {
            let reply = try await harness.generate(#"{"model":"krea-2-medium","prompt":"slow \#(index)"}"#)
            ids.append(try #require(reply.json["id"] as? String))
        }
        try await Task.sleep(for: .milliseconds(2_500))  // two sweeps
        #expect(ids.allSatisfy { harness.application.jobs.job(id: $0) != nil })
        await harness.stop()
    }
}
