import GatewayCore
import Synchronization

/// The store for `state.dir: ""`: nothing survives the process. By default it keeps nothing
/// (memory is the working set, and a job that leaves memory is gone); `retaining: true` keeps a
/// record that reads and a later `load()` return, so a restart can be rehearsed in one process
/// (tests).
public final class MemoryStateStore: StateStore {
    private struct Record: ~Copyable {
        var state = StoredState()
        var jobIndex: [String: Int] = [:]
    }

    private let retaining: Bool
    private let record = Mutex(Record())

    public init(retaining: Bool = false) { self.retaining = retaining }

    public var location: String { "memory" }

    /// Only a retaining store (tests) can read a job back.
    public var keepsFinishedJobs: Bool { retaining }

    /// Nothing reaches a disk.
    public var activity: StoreActivity { StoreActivity(transactions: 0, changes: 0) }

    public func load(keepingFinished: Int) async throws(StoreError) -> StoredState {
        record.withLock { record in
            StoredState.loading(
                keys: record.state.keys, teams: record.state.teams, jobs: record.state.jobs, ledger: record.state.ledger,
                deliveries: record.state.deliveries, idempotency: record.state.idempotency, keepingFinished: keepingFinished)
        }
    }

    public func job(id: String) async throws(StoreError) -> Job? {
        record.withLock { record in record.jobIndex[id].map { record.state.jobs[$0] } }
    }

    public func jobs(owner: String?, status: JobStatus?, before cursor: String?, limit: Int) async throws(StoreError) -> [Job] {
        record.withLock { record in
            Array(record.state.jobs
                .filter { job in
                    (owner == nil || job.ownerKeyID == owner) && (status == nil || job.status == status) && (cursor.map { job.id < $0 } ?? true)
                }
                .sorted { $0.id > $1.id }
                .prefix(limit))
        }
    }

    public func ledgerEntries(jobID: String) async throws(StoreError) -> [LedgerEntry] {
        record.withLock { record in record.state.ledger.filter { $0.jobID == jobID } }
    }

    public func enqueue(_ changes: [StateChange]) -> StoreTicket {
        guard retaining else { return StoreTicket(0) }
        record.withLock { record in
            for change in changes { Self.apply(change, to: &record) }
        }
        return StoreTicket(0)
    }

    public func waitUntilDurable(_ ticket: StoreTicket) async throws(StoreError) {}

    public var failure: StoreError? { nil }

    public func close() async {}

    private static func apply(_ change: StateChange, to record: inout Record) {
        switch change {
        case .job(let job):
            if let index = record.jobIndex[job.id] {
                if job.revision > record.state.jobs[index].revision { record.state.jobs[index] = job }
            } else {
                record.jobIndex[job.id] = record.state.jobs.count
                record.state.jobs.append(job)
            }
        case .jobDeleted(let id):
            guard let index = record.jobIndex.removeValue(forKey: id) else { return }
            record.state.jobs.remove(at: index)
            for (other, position) in record.jobIndex where position > index { record.jobIndex[other] = position - 1 }
        case .ledger(let entry):
            record.state.ledger.append(entry)
        case .key(let key):
            replace(&record.state.keys, key) { $0.id == key.id }
        case .team(let team):
            replace(&record.state.teams, team) { $0.name == team.name }
        case .teamDeleted(let name):
            record.state.teams.removeAll { $0.name == name }
        case .delivery(let delivery):
            replace(&record.state.deliveries, delivery) { $0.id == delivery.id }
        case .idempotency(let entry):
            replace(&record.state.idempotency, entry) { $0.ownerKeyID == entry.ownerKeyID && $0.key == entry.key }
        }
    }

    private static func replace<T>(_ list: inout [T], _ value: T, where matches: (T) -> Bool) {
        if let index = list.firstIndex(where: matches) { list[index] = value } else { list.append(value) }
    }
}
