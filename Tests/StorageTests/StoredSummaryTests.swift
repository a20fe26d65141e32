import Foundation
import GatewayCore
@testable import Storage
import Testing

/// Start-up no longer reads the whole history: the SQLite store answers with the jobs recovery
/// needs and totals computed by SQL. These tests hold those queries to the plain Swift reference
/// (`StoredState.loading`, the memory store's answer) over a random history written to both.
@Suite("Stored summaries")
struct StoredSummaryTests {
    /// A small seeded generator, so a failure can be replayed.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Jobs as the gateway writes them: reserved at admission, then settled once (charged,
    /// released, sometimes refunded), some still open, some refused and deleted, some finished
    /// by an older build without their settlement or webhook event.
    static func history(seed: UInt64, jobs count: Int) -> [[StateChange]] {
        var random = SplitMix(state: seed)
        var batches: [[StateChange]] = []
        let dayMs: Int64 = 86_400_000
        let firstDay: Int64 = 20_400 * dayMs  // 2025-11-08
        for index in 0..<count {
            var changes: [StateChange] = []
            let created = Timestamp(unixMilliseconds: firstDay + Int64(index) * (3 * dayMs / Int64(count)) + Int64.random(in: 0..<1000, using: &random))
            var job = Job(
                id: String(format: "gen_%05d", index), ownerKeyID: ["key-a", "key-b", "key-c"].randomElement(using: &random)!,
                model: ["krea-2-medium", "krea-2-turbo"].randomElement(using: &random)!, provider: Bool.random(using: &random) ? "krea" : "evolink",
                providerModel: "m", cost: Money(micros: Int64.random(in: 1...9, using: &random) * 10_000), createdAt: created,
                metadata: nil, webhookURL: Bool.random(using: &random) ? "https://example.com/hook" : nil)
            job.team = Bool.random(using: &random) ? "design" : nil
            let period: GatewayConfiguration.Budget.Period = Bool.random(using: &random) ? .daily : .monthly
            let window = Ledger.Window(period: period, start: BudgetWindow.start(of: period, containing: created))
            let owners: [BudgetOwner] = [.key(job.ownerKeyID)] + (job.team.map { [.team($0)] } ?? [])
            func lines(_ kind: LedgerEntry.Kind) -> [StateChange] {
                owners.map { .ledger(LedgerEntry(jobID: job.id, kind: kind, owner: $0, window: window, amount: job.cost, at: created)) }
            }
            changes.append(.job(job))
            changes += lines(.reserve)
            job.revision += 1
            switch Int.random(in: 0..<100, using: &random) {
            case 0..<15:  // still open
                job.status = Bool.random(using: &random) ? .queued : .running
                changes.append(.job(job))
            case 15..<20:  // refused: forgotten, its hold released
                changes.append(.jobDeleted(id: job.id))
                changes += lines(.release)
            default:
                let outcome = Int.random(in: 0..<10, using: &random)
                job.status = outcome < 6 ? .completed : outcome < 9 ? .failed : .cancelled
                job.billingStatus = job.status == .completed ? .charged : .released
                job.completedAt = Timestamp(unixMilliseconds: created.unixMilliseconds + 5_000)
                changes.append(.job(job))
                let unsettled = Int.random(in: 0..<20, using: &random) == 0
                if !unsettled { changes += lines(job.billingStatus == .charged ? .charge : .release) }
                if job.billingStatus == .charged && !unsettled && Int.random(in: 0..<6, using: &random) == 0 {
                    job.billingStatus = .released
                    job.revision += 1
                    changes.append(.job(job))
                    changes += lines(.refund)
                }
                if let url = job.webhookURL, Int.random(in: 0..<8, using: &random) != 0 {
                    changes.append(.delivery(WebhookDelivery(
                        id: "msg_" + job.id, jobID: job.id, url: url, type: "generation.completed", body: Array("{}".utf8),
                        secret: Secret("whsec_x"), createdAt: created)))
                }
            }
            batches.append(changes)
        }
        return batches
    }

    static func expectSame(_ sqlite: StoredState, _ memory: StoredState, _ label: String) {
        #expect(sqlite.jobs == memory.jobs, "\(label): jobs")
        #expect(sqlite.ledger == memory.ledger, "\(label): ledger lines of the kept jobs")
        #expect(Set(sqlite.ledgerBalances) == Set(memory.ledgerBalances), "\(label): balances")
        #expect(sqlite.jobTally == memory.jobTally, "\(label): tally")
        #expect(Set(sqlite.requestCounts) == Set(memory.requestCounts), "\(label): request counts")
        #expect(sqlite.deliveries == memory.deliveries, "\(label): deliveries")
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func sqliteLoadEqualsTheReference(seed: UInt64) async throws {
        try await withTemporaryDirectory { directory in
            let sqlite = try await SQLiteStateStore.open(directory: directory)
            let memory = MemoryStateStore(retaining: true)
            for batch in Self.history(seed: seed, jobs: 300) {
                _ = memory.enqueue(batch)
                _ = sqlite.enqueue(batch)
            }
            try await sqlite.flush()
            for keeping in [0, 7, 1_000] {
                let fromSQLite = try await sqlite.load(keepingFinished: keeping)
                let reference = try await memory.load(keepingFinished: keeping)
                Self.expectSame(fromSQLite, reference, "seed \(seed), keeping \(keeping)")
                #expect(fromSQLite.jobs.filter(\.status.isTerminal).count >= min(keeping, 1), "seed \(seed): finished jobs kept")
            }
            // Few jobs kept, all money still accounted for.
            let small = try await sqlite.load(keepingFinished: 0)
            let everything = try await memory.load()
            #expect(small.jobs.count < everything.jobs.count)
            #expect(small.jobTally.groups.values.reduce(0) { $0 + $1.count } == everything.jobs.count)

            // Reads of jobs that left memory.
            let all = everything.jobs
            for job in all.prefix(20) {
                #expect(try await sqlite.job(id: job.id) == job)
                #expect(try await sqlite.ledgerEntries(jobID: job.id) == (try await memory.ledgerEntries(jobID: job.id)))
            }
            #expect(try await sqlite.job(id: "gen_missing") == nil)
            for owner in [nil, "key-a"] as [String?] {
                for status in [nil, .completed, .running] as [JobStatus?] {
                    for cursor in [nil, all[all.count / 2].id] as [String?] {
                        let fromSQLite = try await sqlite.jobs(owner: owner, status: status, before: cursor, limit: 25)
                        let reference = try await memory.jobs(owner: owner, status: status, before: cursor, limit: 25)
                        #expect(fromSQLite == reference, "owner \(owner ?? "-") status \(status?.rawValue ?? "-") cursor \(cursor ?? "-")")
                    }
                }
            }
            await sqlite.close()
        }
    }

    @Test func theReferenceKeepsOpenRecentAndUnfinishedBusiness() {
        var state = StoredState()
        let changes = Self.history(seed: 9, jobs: 200).flatMap { $0 }
        let memory = MemoryStateStore(retaining: true)
        _ = memory.enqueue(changes)
        state = StoredState.loading(
            keys: [], teams: [], jobs: changes.compactMap { if case .job(let job) = $0 { job } else { nil } }.reduce(into: [String: Job]()) {
                if ($0[$1.id]?.revision ?? -1) < $1.revision { $0[$1.id] = $1 }
            }.values.filter { job in !changes.contains(.jobDeleted(id: job.id)) },
            ledger: changes.compactMap { if case .ledger(let entry) = $0 { entry } else { nil } },
            deliveries: changes.compactMap { if case .delivery(let delivery) = $0 { delivery } else { nil } }, idempotency: [], keepingFinished: 5)
        let finished = state.jobs.filter(\.status.isTerminal)
        let open = state.jobs.filter { !$0.status.isTerminal }
        #expect(!open.isEmpty)
        // The five newest finished jobs, plus only finished jobs with something to repair.
        let withEvents = Set(state.deliveries.map(\.jobID))
        let lines = Dictionary(grouping: state.ledger, by: \.jobID)
        for job in finished.dropLast(5) {
            let held = (lines[job.id] ?? []).reduce(0) { $0 + ($1.kind == .reserve ? 1 : $1.kind == .refund ? 0 : -1) }
            #expect(held > 0 || (job.webhookURL != nil && !withEvents.contains(job.id)), "\(job.id) kept without a reason")
        }
        // Every kept job's lines, none of another's.
        #expect(Set(state.ledger.map(\.jobID)).isSubset(of: Set(state.jobs.map(\.id))))
    }
}
