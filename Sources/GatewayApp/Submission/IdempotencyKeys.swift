import GatewayCore
import Storage
import Synchronization

/// `Idempotency-Key` (API.md §3): per gateway key, for 24 hours. The same key with the same body
/// gets the original answer — the job it created (200, nothing reserved again) or the error it
/// got; with another body, 422 `idempotency_key_reused`; while the first request is still being
/// answered, the second waits for it. Records that created a job are written to the durable
/// store with the job, so a restart still de-duplicates.
final class IdempotencyKeys: Sendable {
    static let lifetime: Duration = .seconds(24 * 3600)
    static let maxKeyLength = 255

    enum Outcome: Sendable {
        /// First use: go ahead, then `finish`.
        case proceed
        /// Seen before with this body: answer like the first time.
        case replay(IdempotencyRecord)
        /// Seen before with another body.
        case reused
    }

    private struct Entry {
        var record: IdempotencyRecord
        var inFlight: Bool
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private struct State: ~Copyable {
        var entries: [String: Entry] = [:]
        var sweptAt = Timestamp(unixMilliseconds: 0)
    }

    private let state = Mutex(State())
    private let clock: any GatewayClock

    init(clock: any GatewayClock = SystemClock()) { self.clock = clock }

    /// Records read back from the store at start-up (those younger than 24 h).
    func restore(_ records: [IdempotencyRecord]) {
        let now = clock.now()
        state.withLock { state in
            for record in records where record.jobID != nil || record.responseStatus != nil {
                guard record.createdAt.adding(Self.lifetime) > now else { continue }
                state.entries[Self.id(record.ownerKeyID, record.key)] = Entry(record: record, inFlight: false)
            }
        }
    }

    /// Claims `key` for this request, or says how the first use went (waiting while it is still
    /// being answered).
    func begin(owner: String, key: String, requestHash: String) async -> Outcome {
        let id = Self.id(owner, key)
        while true {
            let now = clock.now()
            let decided = Mutex<Outcome?>(nil)
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    sweep(&state, now: now)
                    guard var entry = state.entries[id], entry.record.createdAt.adding(Self.lifetime) > now else {
                        state.entries[id] = Entry(record: IdempotencyRecord(ownerKeyID: owner, key: key, requestHash: requestHash, createdAt: now), inFlight: true)
                        decided.withLock { $0 = .proceed }
                        return true
                    }
                    guard entry.record.requestHash == requestHash else {
                        decided.withLock { $0 = .reused }
                        return true
                    }
                    guard entry.inFlight else {
                        decided.withLock { $0 = .replay(entry.record) }
                        return true
                    }
                    // Resumed when the first request finishes; then look again.
                    entry.waiters.append(continuation)
                    state.entries[id] = entry
                    return false
                }
                if resumeNow { continuation.resume() }
            }
            if let outcome = decided.withLock({ $0 }) { return outcome }
        }
    }

    /// Answers that are final for this exact request, and so replayed: a job, or a refusal of the
    /// request itself. Anything that may change on a retry — a rate limit, a budget, a conflict, a
    /// provider or store failure — forgets the key, so the retry runs again.
    static func isFinal(status: Int, jobID: String?) -> Bool {
        jobID != nil || [400, 404, 413, 415, 422].contains(status)
    }

    /// The first request is answered: keep what it got, or forget the key when the answer was
    /// not final. Returns the record to make durable, if any.
    @discardableResult
    func finish(owner: String, key: String, jobID: String?, status: Int, body: String) -> IdempotencyRecord? {
        let id = Self.id(owner, key)
        let (record, waiters) = state.withLock { state -> (IdempotencyRecord?, [CheckedContinuation<Void, Never>]) in
            guard var entry = state.entries[id] else { return (nil, []) }
            let waiters = entry.waiters
            if !Self.isFinal(status: status, jobID: jobID) {
                state.entries[id] = nil
                return (nil, waiters)
            }
            entry.record.jobID = jobID
            entry.record.responseStatus = status
            entry.record.responseBody = jobID == nil ? body : nil
            entry.inFlight = false
            entry.waiters = []
            state.entries[id] = entry
            return (entry.record, waiters)
        }
        for waiter in waiters { waiter.resume() }
        return record
    }

    private func sweep(_ state: inout State, now: Timestamp) {
        guard now.unixMilliseconds - state.sweptAt.unixMilliseconds > 60_000 else { return }
        state.sweptAt = now
        state.entries = state.entries.filter { $0.value.inFlight || $0.value.record.createdAt.adding(Self.lifetime) > now }
    }

    private static func id(_ owner: String, _ key: String) -> String { owner + "\u{0}" + key }
}
