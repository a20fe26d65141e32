import Foundation
import GatewayCore
import NIOHTTP1
import Storage
import Testing
@testable import GatewayApp

/// Durability (issue: durability) in process: the real gateway over real sockets on a real SQLite
/// `state.dir`, stopped as SIGTERM stops it and started again on the same directory. The
/// `kill -9` rounds run against the real binary from `.ci/run` (Tests/peer/crash_test.py).
@Suite("Durability across restarts")
struct DurabilityTests {
    static func temporaryStateDirectory() -> String {
        NSTemporaryDirectory() + "kgw-state-" + UUID().uuidString
    }

    static let budgetedKeys = """
        teams:
          design: {budget: {limit_usd: "1.000", period: monthly}}
        keys:
          - {id: key-a, name: "A", team: design, key: "\(GatewayHarness.keyA)", budget: {limit_usd: "0.100", period: total}}
          - {id: key-b, name: "B", key: "\(GatewayHarness.keyB)"}
        """

    static func spend(_ harness: GatewayHarness, key: String = GatewayHarness.keyA) async throws -> [String: (spent: String, reserved: String)] {
        let usage = try await harness.send(.GET, "/v1/usage", key: key)
        var result: [String: (String, String)] = [:]
        for budget in usage.json["budgets"] as? [[String: Any]] ?? [] {
            result["\(budget["scope"] ?? "")"] = ("\(budget["spent_usd"] ?? "")", "\(budget["reserved_usd"] ?? "")")
        }
        return result
    }

    @Test func aStopAndStartOnTheSameStateDirLosesNothing() async throws {
        let directory = Self.temporaryStateDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let harness = try await GatewayHarness(stepDelay: .milliseconds(250), pollInterval: 0.05, keysYAML: Self.budgetedKeys, stateDirectory: directory)

        // Admin-created state: a team and a key (only its hash is stored).
        let team = try await harness.send(.POST, "/admin/teams", key: GatewayHarness.masterKey, json: #"{"name":"ops","budget":{"limit_usd":"2.00","period":"daily"}}"#)
        #expect(team.status == 201)
        let created = try await harness.send(.POST, "/admin/keys", key: GatewayHarness.masterKey, json: #"{"name":"ops bot","team":"ops"}"#)
        let adminKey = try #require(created.json["key"] as? String)
        let adminKeyID = try #require(created.json["id"] as? String)

        // One job finishes before the stop, two are still running across it.
        let first = try await harness.generate(#"{"model":"krea-2-medium","prompt":"a"}"#)
        let firstID = try #require(first.json["id"] as? String)
        _ = try await harness.waitTerminal(firstID)
        var running: [String] = []
        for prompt in ["b", "c"] {
            let reply = try await harness.generate(#"{"model":"krea-2-medium","prompt":"\#(prompt)"}"#)
            #expect(reply.status == 202)
            running.append(try #require(reply.json["id"] as? String))
        }
        let adminJob = try await harness.generate(#"{"model":"krea-2-turbo","prompt":"d"}"#, key: adminKey)
        #expect(adminJob.status == 202)
        let before = try await Self.spend(harness)
        #expect(before["key"]?.spent == "0.030" && before["key"]?.reserved == "0.060")

        try await harness.restart()

        // Everything is back: jobs, holds, the admin key and team.
        for id in [firstID] + running {
            #expect(try await harness.send(.GET, "/v1/generations/\(id)").status == 200)
        }
        let after = try await Self.spend(harness)
        #expect(after["key"]?.spent == "0.030")
        #expect(["0.060", "0.030", "0.000"].contains(after["key"]?.reserved ?? ""), "the running jobs are still held (or settling)")
        #expect(try await harness.send(.GET, "/v1/models", key: adminKey).status == 200)
        #expect(try await harness.send(.GET, "/admin/teams/ops", key: GatewayHarness.masterKey).status == 200)
        #expect(try await harness.send(.GET, "/admin/keys/\(adminKeyID)", key: GatewayHarness.masterKey).json["team"] as? String == "ops")

        // The running jobs are followed to their end after the restart and charged once.
        for id in running {
            let done = try await harness.waitTerminal(id)
            #expect(done.json["status"] as? String == "completed")
        }
        let settled = try await Self.spend(harness)
        #expect(settled["key"]?.spent == "0.090" && settled["key"]?.reserved == "0.000")
        #expect(settled["team"]?.spent == "0.090")
        // The budget still refuses what no longer fits (0.090 of 0.100 spent).
        let refused = try await harness.generate(#"{"model":"krea-2-medium","prompt":"e"}"#)
        #expect(refused.status == 402)

        // And once more: a second restart reads the settled state back exactly.
        try await harness.restart()
        let again = try await Self.spend(harness)
        #expect(again["key"]?.spent == "0.090" && again["key"]?.reserved == "0.000")
        #expect(try await harness.generate(#"{"model":"krea-2-medium","prompt":"f"}"#).status == 402)
        let ledger = harness.application.ledger.allTotals.filter { $0.owner == .key("key-a") }
        #expect(ledger.map(\.spent) == [Money(micros: 90_000)])
        await harness.stop()
    }

    @Test func aSubmissionCutShortByACrashIsFailedAndCharged() async throws {
        let directory = Self.temporaryStateDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // What a crash between "reserved and written" and "the provider answered" leaves behind.
        let store = try await SQLiteStateStore.open(directory: directory)
        let now = Timestamp.now()
        let job = Job(id: GenerationID.make(at: now), ownerKeyID: "key-a", model: "krea-2-medium", provider: "krea",
                      providerModel: "krea-2/medium", cost: Money(micros: 30_000), createdAt: now)
        let window = Ledger.Window(period: .total, start: BudgetWindow.start(of: .total, containing: now))
        try await store.commit([
            .job(job), .ledger(LedgerEntry(jobID: job.id, kind: .reserve, owner: .key("key-a"), window: window, amount: job.cost, at: now)),
        ])
        await store.close()

        let harness = try await GatewayHarness(keysYAML: """
            keys:
              - {id: key-a, name: "A", key: "\(GatewayHarness.keyA)", budget: {limit_usd: "0.100", period: total}}
            """, stateDirectory: directory)
        let reply = try await harness.send(.GET, "/v1/generations/\(job.id)")
        #expect(reply.json["status"] as? String == "failed")
        #expect((reply.json["error"] as? [String: Any])?["code"] as? String == "submission_interrupted")
        #expect(reply.json["billing_status"] as? String == "charged")
        let spend = try await Self.spend(harness)
        #expect(spend["key"]?.spent == "0.030" && spend["key"]?.reserved == "0.000")
        await harness.stop()

        // The repair itself is durable.
        let reopened = try await SQLiteStateStore.open(directory: directory)
        let state = try await reopened.load()
        await reopened.close()
        #expect(state.jobs.first?.status == .failed)
        #expect(state.ledger.map(\.kind) == [.reserve, .charge])
    }

    @Test func whenTheStoreCannotWriteSubmissionsAreRefusedAndNothingIsHeld() async throws {
        let harness = try await GatewayHarness(keysYAML: Self.budgetedKeys, store: FailingStore())
        let reply = try await harness.generate(#"{"model":"krea-2-medium","prompt":"a"}"#)
        #expect(reply.status == 503)
        #expect(reply.error["code"] as? String == "storage_unavailable")
        let spend = try await Self.spend(harness)
        #expect(spend["key"]?.reserved == "0.000" && spend["key"]?.spent == "0.000")
        #expect(harness.application.jobs.residentJobs.isEmpty)
        #expect(try await harness.send(.GET, "/readyz", key: nil).status == 503)
        // An admin change that cannot be recorded is not kept either.
        let team = try await harness.send(.POST, "/admin/teams", key: GatewayHarness.masterKey, json: #"{"name":"ops"}"#)
        #expect(team.status == 503)
        #expect(try await harness.send(.GET, "/admin/teams/ops", key: GatewayHarness.masterKey).status == 404)
        await harness.stop()
    }
}

/// A store whose disk is gone: every write fails (as a full or failed disk would make SQLite do).
final class FailingStore: StateStore {
    var location: String { "failing" }
    var keepsFinishedJobs: Bool { true }
    var activity: StoreActivity { StoreActivity(transactions: 0, changes: 0) }
    func load(keepingFinished: Int) async throws(StoreError) -> StoredState { StoredState() }
    func job(id: String) async throws(StoreError) -> Job? { throw StoreError("disk I/O error") }
    func jobs(owner: String?, status: JobStatus?, before cursor: String?, limit: Int) async throws(StoreError) -> [Job] { throw StoreError("disk I/O error") }
    func ledgerEntries(jobID: String) async throws(StoreError) -> [LedgerEntry] { throw StoreError("disk I/O error") }
    func enqueue(_ changes: [StateChange]) -> StoreTicket { StoreTicket(changes.isEmpty ? 0 : 1) }
    func waitUntilDurable(_ ticket: StoreTicket) async throws(StoreError) {
        if ticket.sequence > 0 { throw StoreError("disk I/O error") }
    }
    var failure: StoreError? { StoreError("disk I/O error") }
    func close() async {}
}
