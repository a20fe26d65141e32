import Dispatch
import Foundation
import GatewayCore
@testable import Storage
import Synchronization
import Testing

/// A fresh directory under the system's temporary directory, removed afterwards.
func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let path = NSTemporaryDirectory() + "kgw-storage-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(path)
}

enum Sample {
    static let day = Ledger.Window(period: .daily, start: Timestamp(unixMilliseconds: 1_763_683_200_000))

    static func job(_ id: String, revision: Int = 0, status: JobStatus = .queued) -> Job {
        var job = Job(
            id: id, ownerKeyID: "key-a", model: "krea-2-medium", provider: "krea", providerModel: "krea-2/medium",
            cost: Money(micros: 30_000), createdAt: Timestamp(unixMilliseconds: 1_763_700_000_123),
            metadata: .object([("trace", .string("a\"b")), ("n", .number("1.50"))]), webhookURL: "https://example.com/hook")
        job.revision = revision
        job.status = status
        job.team = "design"
        job.providerJobID = "prov-\(id)"
        job.providerStatus = "processing"
        if status == .completed {
            job.completedAt = Timestamp(unixMilliseconds: 1_763_700_009_000)
            job.resultURLs = ["https://cdn.example/\(id).png", "https://cdn.example/\(id)-2.png"]
            job.billingStatus = .charged
        }
        if status == .failed {
            job.error = JobError(code: "content_policy_violation", message: "no")
            job.billingStatus = .released
        }
        return job
    }

    static func entry(_ jobID: String, _ kind: LedgerEntry.Kind, owner: BudgetOwner = .team("design")) -> LedgerEntry {
        LedgerEntry(jobID: jobID, kind: kind, owner: owner, window: day, amount: Money(micros: 30_000), at: Timestamp(unixMilliseconds: 1_763_700_000_500))
    }

    static func key(_ id: String) -> KeyRecord {
        KeyRecord(
            id: id, name: "Design web", team: "design", sha256Hex: String(repeating: "ab", count: 32),
            budget: GatewayConfiguration.Budget(limit: Money(micros: 5_000_000), period: .monthly), models: ["krea-2-medium", "fast"],
            rpm: 60, maxConcurrent: 4, webhookSecret: Secret("whsec_c2VjcmV0"), createdAt: Timestamp(unixMilliseconds: 1_763_600_000_000),
            revokedAt: nil, source: .admin)
    }

    static func delivery(_ jobID: String) -> WebhookDelivery {
        var delivery = WebhookDelivery(
            id: "msg_" + jobID, jobID: jobID, url: "https://example.com/hook", type: "generation.completed",
            body: Array("{\"type\":\"generation.completed\",\"bin\":\"\u{0}\u{7f}\"}".utf8) + [0xFF, 0x00],
            secret: Secret("whsec_c2VjcmV0"), createdAt: Timestamp(unixMilliseconds: 1_763_700_010_000))
        delivery.attempts = [
            .init(at: Timestamp(unixMilliseconds: 1_763_700_010_100), status: 500, error: nil, latencyMilliseconds: 12),
            .init(at: Timestamp(unixMilliseconds: 1_763_700_015_100), status: nil, error: "timeout \"slow\"", latencyMilliseconds: 10_000),
        ]
        delivery.nextAttemptAt = Timestamp(unixMilliseconds: 1_763_700_045_100)
        return delivery
    }
}

@Suite("SQLite state store")
struct SQLiteStateStoreTests {
    @Test func everyKindOfRecordReadsBackAsWritten() async throws {
        try await withTemporaryDirectory { directory in
            let store = try await SQLiteStateStore.open(directory: directory + "/nested/state")
            let team = TeamRecord(
                name: "design", budget: GatewayConfiguration.Budget(limit: Money(micros: 50_000_000), period: .weekly),
                createdAt: Timestamp(unixMilliseconds: 1_763_500_000_000), source: .admin)
            var revoked = Sample.key("key_2")
            revoked.sha256Hex = String(repeating: "cd", count: 32)
            revoked.budget = nil
            revoked.models = nil
            revoked.webhookSecret = nil
            revoked.revokedAt = Timestamp(unixMilliseconds: 1_763_650_000_000)
            let idempotency = IdempotencyRecord(
                ownerKeyID: "key-a", key: "retry-1", requestHash: String(repeating: "0", count: 64), jobID: "gen_1",
                responseStatus: 202, responseBody: "{\"id\":\"gen_1\"}", createdAt: Timestamp(unixMilliseconds: 1_763_700_000_000))
            var failed = Sample.job("gen_2", revision: 3, status: .failed)
            failed.frontDoor = .krea
            try await store.commit([
                .job(Sample.job("gen_1", revision: 4, status: .completed)), .job(failed),
                .ledger(Sample.entry("gen_1", .reserve)), .ledger(Sample.entry("gen_1", .charge, owner: .key("key-a"))),
                .key(Sample.key("key_1")), .key(revoked), .team(team), .delivery(Sample.delivery("gen_1")), .idempotency(idempotency),
            ])
            await store.close()

            let reopened = try await SQLiteStateStore.open(directory: directory + "/nested/state")
            let state = try await reopened.load()
            await reopened.close()
            #expect(state.jobs == [Sample.job("gen_1", revision: 4, status: .completed), failed])
            #expect(state.ledger == [Sample.entry("gen_1", .reserve), Sample.entry("gen_1", .charge, owner: .key("key-a"))])
            #expect(state.keys == [Sample.key("key_1"), revoked])
            #expect(state.teams == [team])
            #expect(state.deliveries == [Sample.delivery("gen_1")])
            #expect(state.idempotency == [idempotency])
        }
    }

    @Test func aJobNeverGoesBackToALowerRevision() async throws {
        try await withTemporaryDirectory { directory in
            let store = try await SQLiteStateStore.open(directory: directory)
            try await store.commit([.job(Sample.job("gen_1", revision: 5, status: .completed))])
            // Later, a stale snapshot arrives: in its own batch, and twice within one batch.
            try await store.commit([.job(Sample.job("gen_1", revision: 2))])
            _ = store.enqueue([.job(Sample.job("gen_2", revision: 7, status: .completed))])
            _ = store.enqueue([.job(Sample.job("gen_2", revision: 6))])
            try await store.commit([])
            let jobs = try await store.load().jobs
            await store.close()
            #expect(jobs.map(\.revision) == [5, 7])
            #expect(jobs.map(\.status) == [.completed, .completed])
        }
    }

    @Test func deletionsRemoveJobsAndTeams() async throws {
        try await withTemporaryDirectory { directory in
            let store = try await SQLiteStateStore.open(directory: directory)
            let team = TeamRecord(name: "t", budget: nil, createdAt: .now(), source: .admin)
            try await store.commit([.job(Sample.job("gen_1")), .job(Sample.job("gen_2")), .team(team)])
            try await store.commit([.jobDeleted(id: "gen_1"), .teamDeleted(name: "t"), .ledger(Sample.entry("gen_1", .release))])
            let state = try await store.load()
            await store.close()
            #expect(state.jobs.map(\.id) == ["gen_2"])
            #expect(state.teams.isEmpty)
            // The ledger is append-only: the released hold of a deleted job stays on record (in
            // the balances; start-up reads the lines of kept jobs only).
            #expect(state.ledger.isEmpty)
            #expect(state.ledgerBalances.map(\.reserved) == [Money(micros: -Sample.entry("gen_1", .release).amount.micros)])
        }
    }

    @Test func concurrentWritersShareTransactionsAndAllAreDurable() async throws {
        try await withTemporaryDirectory { directory in
            let store = try await SQLiteStateStore.open(directory: directory)
            let writers = 500
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<writers {
                    group.addTask {
                        let id = String(format: "gen_%04d", index)
                        try await store.commit([.job(Sample.job(id)), .ledger(Sample.entry(id, .reserve))])
                    }
                }
                try await group.waitForAll()
            }
            let batches = store.activity.transactions
            await store.close()
            let reopened = try await SQLiteStateStore.open(directory: directory)
            let state = try await reopened.load()
            await reopened.close()
            #expect(state.jobs.count == writers)
            #expect(state.ledger.count == writers)
            // 500 commits, far fewer transactions.
            #expect(batches < writers / 2, "batches: \(batches)")
        }
    }

    @Test func closeWritesWhatIsStillQueued() async throws {
        try await withTemporaryDirectory { directory in
            let store = try await SQLiteStateStore.open(directory: directory)
            for index in 0..<50 { _ = store.enqueue([.job(Sample.job("gen_\(index)"))]) }
            await store.close()
            let reopened = try await SQLiteStateStore.open(directory: directory)
            #expect(try await reopened.load().jobs.count == 50)
            await reopened.close()
        }
    }

    @Test func aSecondGatewayOnTheSameDirectoryIsRefused() async throws {
        try await withTemporaryDirectory { directory in
            let store = try await SQLiteStateStore.open(directory: directory)
            await #expect(throws: StoreError.self) { _ = try await SQLiteStateStore.open(directory: directory) }
            do {
                _ = try await SQLiteStateStore.open(directory: directory)
            } catch {
                #expect("\(error)".contains("another krea-gateway is using this directory"))
            }
            await store.close()
            // Released on close.
            let again = try await SQLiteStateStore.open(directory: directory)
            await again.close()
        }
    }

    @Test func aFileThatIsNotADatabaseIsAStartUpError() async throws {
        try await withTemporaryDirectory { directory in
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let garbage = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
            try garbage.write(to: URL(fileURLWithPath: directory + "/" + SQLiteStateStore.fileName))
            do {
                _ = try await SQLiteStateStore.open(directory: directory)
                Issue.record("a garbage file opened as a store")
            } catch {
                #expect("\(error)".contains(SQLiteStateStore.fileName))
            }
        }
    }

    @Test func aDirectoryThatCannotBeCreatedIsAStartUpError() async throws {
        try await withTemporaryDirectory { directory in
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            // A regular file where a directory should be: no process, root included, can put the store there.
            FileManager.default.createFile(atPath: directory + "/file", contents: Data("x".utf8))
            do {
                _ = try await SQLiteStateStore.open(directory: directory + "/file/state")
                Issue.record("opened a store below a regular file")
            } catch {
                #expect("\(error)".contains("state.dir"))
            }
            do {
                _ = try await SQLiteStateStore.open(directory: directory + "/file")
                Issue.record("opened a store in a regular file")
            } catch {
                #expect("\(error)".contains("not a directory"))
            }
        }
    }

    @Test func aReadOnlyDirectoryIsAStartUpError() async throws {
        // Root may write anywhere; the check only means something for an unprivileged user.
        guard geteuid() != 0 else { return }
        try await withTemporaryDirectory { directory in
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            chmod(directory, 0o500)
            defer { chmod(directory, 0o700) }
            await #expect(throws: StoreError.self) { _ = try await SQLiteStateStore.open(directory: directory) }
        }
    }

    @Test func aNewerSchemaIsRefusedNotOverwritten() async throws {
        try await withTemporaryDirectory { directory in
            let store = try await SQLiteStateStore.open(directory: directory)
            await store.close()
            try await Self.withRawConnection(directory) { connection in
                try connection.execute("PRAGMA user_version = \(Schema.latestVersion + 1)")
            }
            do {
                _ = try await SQLiteStateStore.open(directory: directory)
                Issue.record("opened a newer schema")
            } catch {
                #expect("\(error)".contains("newer than this build knows"))
            }
        }
    }

    @Test func aVersion1DatabaseIsMigratedWithItsDataIntact() async throws {
        try await withTemporaryDirectory { directory in
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            // What the first release wrote: schema 1 and one job, one ledger line, one delivery.
            try await Self.withRawConnection(directory) { connection in
                try connection.execute("PRAGMA journal_mode = WAL")
                for statement in Schema.migrations[0] { try connection.execute(statement) }
                try connection.execute("PRAGMA user_version = 1")
                // Schema 1 had no `front_door` (schema 3 added it, the last column).
                let v1Columns = Array(Rows.jobColumns.dropLast())
                #expect(Rows.jobColumns.last == "front_door")
                try connection.execute(Rows.insert("jobs", v1Columns), Array(Rows.jobRow(Sample.job("gen_old", revision: 2, status: .completed)).dropLast()))
                try connection.execute(Rows.insert("ledger_entries", Rows.ledgerColumns), Rows.ledgerRow(Sample.entry("gen_old", .reserve)))
                try connection.execute(Rows.insert("webhook_deliveries", Rows.deliveryColumns), Rows.deliveryRow(Sample.delivery("gen_old")))
            }
            let store = try await SQLiteStateStore.open(directory: directory)
            let state = try await store.load()
            // The table schema 2 added is there and usable.
            let record = IdempotencyRecord(ownerKeyID: "key-a", key: "k", requestHash: "h", createdAt: .now())
            try await store.commit([.idempotency(record)])
            await store.close()
            #expect(state.jobs == [Sample.job("gen_old", revision: 2, status: .completed)])
            #expect(state.jobs.first?.frontDoor == .gateway)
            #expect(state.ledger == [Sample.entry("gen_old", .reserve)])
            #expect(state.deliveries == [Sample.delivery("gen_old")])
            try await Self.withRawConnection(directory) { connection in
                #expect(try connection.execute("PRAGMA user_version").first?.column("user_version") == .integer(Int64(Schema.latestVersion)))
                let indexes = try connection.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'webhook_deliveries_by_state'")
                #expect(indexes.count == 1)
                #expect(try connection.execute("PRAGMA journal_mode").first?.column("journal_mode") == .text("wal"))
            }
        }
    }

    /// A second connection to the store's file, as `sqlite3` would open it.
    static func withRawConnection(_ directory: String, _ body: (SQLiteConnection) throws -> Void) async throws {
        let connection = try SQLiteConnection(path: directory + "/" + SQLiteStateStore.fileName)
        defer { connection.close() }
        try body(connection)
    }
}

@Suite("Group commit")
struct GroupCommitTests {
    struct Refused: Error {}

    @Test func aBatchThatFailsOnceIsTriedAgainBeforeAnythingAfterIt() async throws {
        let attempts = Counter()
        let written = Mutex<[[StateChange]]>([])
        let commits = GroupCommit(queue: DispatchQueue(label: "test"), retryDelays: [.milliseconds(1), .milliseconds(1)]) { batch throws(StoreError) in
            if attempts.increment() == 1 { throw StoreError("database is locked") }
            written.withLock { $0.append(batch) }
        }
        try await commits.commitForTest([.jobDeleted(id: "a")])
        try await commits.commitForTest([.jobDeleted(id: "b")])
        #expect(written.withLock { $0 } == [[.jobDeleted(id: "a")], [.jobDeleted(id: "b")]])
        #expect(commits.failure == nil)
        await commits.close()
    }

    @Test func aBatchThatKeepsFailingStopsTheStoreSoNothingLaterIsWritten() async throws {
        let written = Mutex<[[StateChange]]>([])
        let failing = Mutex(false)
        let commits = GroupCommit(queue: DispatchQueue(label: "test"), retryDelays: [.milliseconds(1)]) { batch throws(StoreError) in
            if failing.withLock({ $0 }) { throw StoreError("disk full") }
            written.withLock { $0.append(batch) }
        }
        try await commits.commitForTest([.jobDeleted(id: "first")])
        failing.withLock { $0 = true }
        await #expect(throws: StoreError("disk full")) { try await commits.commitForTest([.jobDeleted(id: "lost")]) }
        // The disk would work again, but anything written now would sit behind a lost change.
        failing.withLock { $0 = false }
        await #expect(throws: StoreError("disk full")) { try await commits.commitForTest([.jobDeleted(id: "after")]) }
        await #expect(throws: StoreError("disk full")) { try await commits.waitUntilDurable(commits.enqueue([])) }
        #expect(commits.failure == StoreError("disk full"))
        #expect(written.withLock { $0 } == [[.jobDeleted(id: "first")]])
        await commits.close()
    }

    @Test func waitingForAnAlreadyWrittenTicketReturnsAtOnce() async throws {
        let commits = GroupCommit(queue: DispatchQueue(label: "test")) { _ throws(StoreError) in }
        let ticket = commits.enqueue([.jobDeleted(id: "a")])
        try await commits.waitUntilDurable(ticket)
        try await commits.waitUntilDurable(ticket)
        // Nothing queued: the barrier is the last ticket.
        try await commits.waitUntilDurable(commits.enqueue([]))
        await commits.close()
    }
}

final class Counter: Sendable {
    private let value = Mutex(0)
    func increment() -> Int { value.withLock { $0 += 1; return $0 } }
}

extension GroupCommit {
    func commitForTest(_ changes: [StateChange]) async throws(StoreError) {
        try await waitUntilDurable(enqueue(changes))
    }
}

@Suite("Group commit after close")
struct GroupCommitCloseTests {
    @Test func aChangeQueuedAfterCloseIsRefusedNotACrash() async throws {
        let commits = GroupCommit(queue: DispatchQueue(label: "test")) { _ throws(StoreError) in }
        try await commits.commitForTest([.jobDeleted(id: "a")])
        await commits.close()
        await #expect(throws: StoreError.self) { try await commits.commitForTest([.jobDeleted(id: "late")]) }
    }
}
