import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Group commit: callers queue changes and wait; one writer at a time takes everything queued so
/// far and writes it in one transaction, so N concurrent writers cost about one commit, not N.
/// While a batch is being written, new changes collect for the next one. The writer runs on a
/// serial queue and keeps going while there is work: a busy store costs no thread hand-off per
/// transaction.
///
/// What is on disk is always a prefix of what was queued, in order: a batch that fails is tried
/// again a few times (a backup holding a lock, a moment of I/O trouble) before anything after it
/// is written, and if it still fails the store stops for good — every later write fails too, so
/// no answer ever claims a change that sits behind a lost one. A restart reloads the prefix.
final class GroupCommit: Sendable {
    typealias Write = @Sendable ([StateChange]) throws(StoreError) -> Void

    private struct Waiter {
        var ticket: UInt64
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State: ~Copyable {
        var pending: [StateChange] = []
        /// The ticket of the last `enqueue`.
        var lastTicket: UInt64 = 0
        /// Every ticket up to this one has been written (or has failed).
        var completedThrough: UInt64 = 0
        var writing = false
        var closed = false
        var waiters: [Waiter] = []
        /// Recent failed batches (ticket ranges), for waiters that arrive after the fact.
        var failures: [(range: ClosedRange<UInt64>, error: StoreError)] = []
        var lastFailure: StoreError?
        var idle: [CheckedContinuation<Void, Never>] = []
        var batchesWritten = 0
        var changesWritten = 0
    }

    private let state = Mutex(State())
    private let queue: DispatchQueue
    private let write: Write
    /// Waits before the retries of a failed batch.
    private let retryDelays: [Duration]

    init(queue: DispatchQueue, retryDelays: [Duration] = [.milliseconds(50), .milliseconds(250), .seconds(1)], write: @escaping Write) {
        self.queue = queue
        self.retryDelays = retryDelays
        self.write = write
    }

    func enqueue(_ changes: [StateChange]) -> StoreTicket {
        let (ticket, startWriter) = state.withLock { state -> (UInt64, Bool) in
            // After `close` (shutdown) a late change cannot be written: its waiter is told so, and
            // what it described is re-derived after the restart (polls, redeliveries).
            if state.closed { return (Self.closedTicket, false) }
            if state.lastFailure != nil { return (Self.failedTicket, false) }
            guard !changes.isEmpty else { return (state.lastTicket, false) }
            state.lastTicket += 1
            state.pending.append(contentsOf: changes)
            if state.writing { return (state.lastTicket, false) }
            state.writing = true
            return (state.lastTicket, true)
        }
        if startWriter { queue.async { self.drain() } }
        return StoreTicket(ticket)
    }

    static let closedTicket = UInt64.max
    static let failedTicket = UInt64.max - 1

    func waitUntilDurable(_ ticket: StoreTicket) async throws(StoreError) {
        if ticket.sequence == Self.closedTicket { throw StoreError("the state store is closed (the gateway is stopping)") }
        if ticket.sequence == Self.failedTicket { throw failure ?? StoreError("the state store has failed") }
        do {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome = state.withLock { state -> Result<Void, StoreError>? in
                    guard ticket.sequence > state.completedThrough else {
                        if let failed = state.failures.first(where: { $0.range.contains(ticket.sequence) }) { return .failure(failed.error) }
                        return .success(())
                    }
                    state.waiters.append(Waiter(ticket: ticket.sequence, continuation: continuation))
                    return nil
                }
                switch outcome {
                case .success: continuation.resume()
                case .failure(let error): continuation.resume(throwing: error)
                case nil: break
                }
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError("\(error)")
        }
    }

    var failure: StoreError? { state.withLock { $0.lastFailure } }

    /// Transactions written so far (group commit makes this far smaller than the writes).
    var batchesWritten: Int { state.withLock { $0.batchesWritten } }

    /// Changes written so far.
    var changesWritten: Int { state.withLock { $0.changesWritten } }

    private static func sleep(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }

    /// Waits for the queue to empty, then refuses further changes.
    func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state -> Bool in
                if !state.writing && state.pending.isEmpty { state.closed = true; return true }
                state.idle.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    private func drain() {
        while true {
            let next = state.withLock { state -> (batch: [StateChange], through: UInt64)? in
                guard !state.pending.isEmpty else { return nil }
                defer { state.pending.removeAll(keepingCapacity: true) }
                return (state.pending, state.lastTicket)
            }
            guard let next else {
                // Re-checked under the lock: a change queued after the check above started no
                // writer of its own (`writing` was set), so this one must take it.
                let idle = state.withLock { state -> [CheckedContinuation<Void, Never>]? in
                    guard state.pending.isEmpty else { return nil }
                    state.writing = false
                    if !state.idle.isEmpty { state.closed = true }
                    defer { state.idle.removeAll() }
                    return state.idle
                }
                guard let idle else { continue }
                for continuation in idle { continuation.resume() }
                return
            }
            var outcome: StoreError?
            for delay in [Duration.zero] + retryDelays {
                if delay > .zero { Self.sleep(delay) }
                do throws(StoreError) {
                    try write(next.batch)
                    outcome = nil
                    break
                } catch {
                    outcome = error
                }
            }
            let ready = state.withLock { state -> [Waiter] in
                state.batchesWritten += 1
                state.changesWritten += next.batch.count
                let first = state.completedThrough + 1
                state.completedThrough = next.through
                if let outcome {
                    // The store stops here: what is queued behind this batch is dropped and
                    // fails, and so does everything queued from now on.
                    state.lastFailure = outcome
                    state.failures.append((first...state.lastTicket, outcome))
                    state.completedThrough = state.lastTicket
                    state.pending.removeAll()
                }
                var ready: [Waiter] = []
                let through = state.completedThrough
                state.waiters.removeAll { waiter in
                    guard waiter.ticket <= through else { return false }
                    ready.append(waiter)
                    return true
                }
                return ready
            }
            for waiter in ready {
                if let outcome { waiter.continuation.resume(throwing: outcome) } else { waiter.continuation.resume() }
            }
        }
    }
}
