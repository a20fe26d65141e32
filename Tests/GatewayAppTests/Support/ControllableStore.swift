import GatewayCore
import Storage
import Synchronization

/// A retaining memory store a test steers: its writes can be made to fail (`failing`), and to
/// become durable only when the test opens the gate (`holdDurability()`, `open()`).
final class ControllableStore: StateStore {
    let inner = MemoryStateStore(retaining: true)
    let failing = Atomic<Bool>(false)
    private let gate = Mutex<(held: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    /// From now on, `waitUntilDurable` waits until `open()`.
    func holdDurability() { gate.withLock { $0.held = true } }

    /// Writes waiting to become durable.
    var waiting: Int { gate.withLock { $0.waiters.count } }

    /// Every held write is durable now, and later ones at once.
    func open() {
        let waiters = gate.withLock { gate -> [CheckedContinuation<Void, Never>] in
            gate.held = false
            defer { gate.waiters = [] }
            return gate.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    var location: String { "controllable" }
    var keepsFinishedJobs: Bool { true }
    var activity: StoreActivity { inner.activity }
    func load(keepingFinished: Int) async throws(StoreError) -> StoredState { try await inner.load(keepingFinished: keepingFinished) }
    func job(id: String) async throws(StoreError) -> Job? { try await inner.job(id: id) }
    func jobs(owner: String?, status: JobStatus?, before cursor: String?, limit: Int) async throws(StoreError) -> [Job] {
        try await inner.jobs(owner: owner, status: status, before: cursor, limit: limit)
    }
    func ledgerEntries(jobID: String) async throws(StoreError) -> [LedgerEntry] { try await inner.ledgerEntries(jobID: jobID) }
    func enqueue(_ changes: [StateChange]) -> StoreTicket {
        if failing.load(ordering: .relaxed) { return StoreTicket(1) }
        return inner.enqueue(changes)
    }
    func waitUntilDurable(_ ticket: StoreTicket) async throws(StoreError) {
        if failing.load(ordering: .relaxed) { throw StoreError("disk I/O error") }
        await withCheckedContinuation { continuation in
            let now = gate.withLock { gate -> Bool in
                guard gate.held else { return true }
                gate.waiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }
    var failure: StoreError? { failing.load(ordering: .relaxed) ? StoreError("disk I/O error") : nil }
    func close() async {}
}
