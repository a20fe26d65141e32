import Deadlines
import GatewayCore
import Providers
import Storage
import Synchronization

/// The jobs the gateway tracks in memory (the working set; the `StateStore` is the durable
/// record). Every state change goes through here, under one lock, so a job makes exactly one
/// terminal transition however many callbacks and polls race; each change bumps the job's
/// `revision`, which keeps the durable copy from going back in time.
///
/// Open jobs stay in memory; finished ones stay until `keepingFinished` newer ones have finished
/// (`evict`), then live only in the store, where `lookup` and `page` find them. A tally over every
/// job ever admitted stays in memory, so reports and metrics never depend on what is resident.
public final class JobRegistry: Sendable {
    private struct State: ~Copyable {
        var jobs: [String: Job] = [:]
        /// Each owner's resident job ids in creation order (ids sort by time); ids of evicted jobs
        /// linger until the owner's list is compacted.
        var byOwner: [String: [String]] = [:]
        var residentByOwner: [String: Int] = [:]
        /// Requests waiting for a job to end (`Prefer: wait`), by job id, and how many in all.
        var waiters: [String: [Waiter]] = [:]
        var waiterCount = 0
        var nextWaiter: UInt64 = 0
        /// Every waiter's deadline, and the one task that sleeps until the earliest. A waiter
        /// resumed by its job's end leaves its entry behind (popped as a no-op when due, or
        /// dropped when stale entries outnumber live ones), so ending a wait costs no timer
        /// cancellation and waiting costs no task of its own.
        var deadlines = DeadlineHeap<ContinuousClock.Instant, WaitDeadline>()
        var deadlineWakeUp = WakeUp()
        var tally = JobTally()
        /// Resident finished jobs in the order they finished (or were last touched), with the
        /// sequence number they got then; an entry whose number is not the job's current one is
        /// stale.
        var finishedOrder: [(id: String, sequence: UInt64)] = []
        var finishedHead = 0
        var finishedSequence: [String: UInt64] = [:]
        var sequence: UInt64 = 0

        mutating func addResident(_ job: Job) {
            jobs[job.id] = job
            residentByOwner[job.ownerKeyID, default: 0] += 1
            // Ids arrive almost in order (concurrent submissions may swap neighbours; a job
            // brought back from the store is older): insert from the end, in place. (Copying the
            // list out of the dictionary would copy and retain every id in it.)
            byOwner[job.ownerKeyID, default: []].insertSorted(job.id)
            if job.status.isTerminal { markFinished(job.id) }
        }

        mutating func dropResident(_ id: String) -> Job? {
            guard let job = jobs.removeValue(forKey: id) else { return nil }
            finishedSequence[id] = nil
            let left = (residentByOwner[job.ownerKeyID] ?? 1) - 1
            residentByOwner[job.ownerKeyID] = left == 0 ? nil : left
            if left == 0 {
                byOwner[job.ownerKeyID] = nil
            } else if let ids = byOwner[job.ownerKeyID], ids.count > 2 * left + 64 {
                byOwner[job.ownerKeyID] = ids.filter { jobs[$0] != nil }
            }
            return job
        }

        /// Every waiter of the job, removed.
        mutating func removeWaiters(of id: String) -> [Waiter] {
            let waiting = waiters.removeValue(forKey: id) ?? []
            waiterCount -= waiting.count
            return waiting
        }

        /// The job's waiters with these tokens, removed (none for tokens already resumed).
        mutating func removeWaiters(of id: String, tokens: Set<UInt64>) -> [Waiter] {
            guard let all = waiters.removeValue(forKey: id) else { return [] }
            var removed: [Waiter] = []
            var kept: [Waiter] = []
            for waiter in all {
                if tokens.contains(waiter.token) { removed.append(waiter) } else { kept.append(waiter) }
            }
            if !kept.isEmpty { waiters[id] = kept }
            waiterCount -= removed.count
            return removed
        }

        /// The job (re)joins the end of the finished order.
        mutating func markFinished(_ id: String) {
            sequence += 1
            finishedSequence[id] = sequence
            finishedOrder.append((id, sequence))
        }
    }

    private struct Waiter {
        let token: UInt64
        let continuation: CheckedContinuation<Job?, Never>
    }

    private struct WaitDeadline {
        let jobID: String
        let token: UInt64
    }

    /// Wait deadlines are rounded up to this step, so waits that run out together share one
    /// wake-up of the sleeper (a `Prefer: wait` answer comes at most 10 ms after its time).
    static let waitStepNanoseconds: Int64 = 10_000_000
    /// Stale deadline entries are dropped once there are more of them than this and than live waiters.
    static let staleDeadlineSlack = 4_096

    private let state = Mutex(State())
    private let stateStore: any StateStore
    private let clock: any GatewayClock
    /// How many finished jobs stay in memory.
    public let keepingFinished: Int

    /// Jobs beyond memory are read from `stateStore`; `clock` times `Prefer: wait` deadlines.
    public init(stateStore: any StateStore = MemoryStateStore(), keepingFinished: Int = 10_000, clock: any GatewayClock = SystemClock()) {
        self.stateStore = stateStore
        self.clock = clock
        self.keepingFinished = max(0, keepingFinished)
    }

    /// Adds a new job.
    public func insert(_ job: Job) {
        state.withLock { state in
            state.addResident(job)
            state.tally.add(job)
        }
    }

    /// Puts back what start-up read from the durable store: the jobs it kept (oldest first) and
    /// the tally over every stored job.
    public func restore(_ jobs: [Job], tally: JobTally) {
        state.withLock { state in
            state.tally = tally
            for job in jobs { state.addResident(job) }
        }
    }

    /// Finished jobs that finished no later than `marker` (a `finishMarker` taken earlier) and
    /// beyond the newest `keepingFinished` leave memory; returns their ids. The caller makes sure
    /// their last change is durable first.
    public func evict(finishedBy marker: UInt64) -> [String] {
        state.withLock { state in
            var evicted: [String] = []
            while state.finishedHead < state.finishedOrder.count, state.finishedSequence.count > keepingFinished {
                let (id, sequence) = state.finishedOrder[state.finishedHead]
                guard sequence <= marker else { break }
                state.finishedHead += 1
                guard state.finishedSequence[id] == sequence else { continue }  // stale entry
                if state.dropResident(id) != nil { evicted.append(id) }
            }
            if state.finishedHead > 1024 && state.finishedHead * 2 > state.finishedOrder.count {
                state.finishedOrder.removeFirst(state.finishedHead)
                state.finishedHead = 0
            }
            return evicted
        }
    }

    /// The sequence number of the latest finish (see `evict`).
    public var finishMarker: UInt64 { state.withLock { $0.sequence } }

    /// Jobs in memory: (open, finished).
    public var residentCounts: (open: Int, finished: Int) {
        state.withLock { ($0.jobs.count - $0.finishedSequence.count, $0.finishedSequence.count) }
    }

    /// The job, from memory or else from the store (`nil` if neither has it).
    public func lookup(id: String) async throws(StoreError) -> Job? {
        if let job = job(id: id) { return job }
        return try await stateStore.job(id: id)
    }

    /// Brings a stored job back into memory (to change it): the resident copy, and whether this
    /// call put it there (`false` when it was resident already).
    public func rehydrate(_ job: Job) -> (job: Job, inserted: Bool) {
        state.withLock { state in
            if let resident = state.jobs[job.id] { return (resident, false) }
            state.addResident(job)
            return (job, true)
        }
    }

    /// Forgets a job whose submission was refused (the client got an error, never its id).
    public func remove(id: String) {
        let waiting = state.withLock { state -> [Waiter] in
            guard let job = state.dropResident(id) else { return [] }
            // A refused job is among the newest: look from the end, remove in place.
            if let index = state.byOwner[job.ownerKeyID]?.lastIndex(of: id) { state.byOwner[job.ownerKeyID]?.remove(at: index) }
            state.tally.remove(job)
            return state.removeWaiters(of: id)
        }
        for waiter in waiting { waiter.continuation.resume(returning: nil) }
    }

    /// Waits until the job is terminal or `timeout` passes, and returns it as it is then (`nil`
    /// for an unknown job). No thread and no task of its own waits: the request's task is
    /// suspended until the job's terminal transition or the deadline sleeper resumes it
    /// (`Prefer: wait`).
    public func waitUntilTerminal(id: String, timeout: Duration) async -> Job? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Job?, Never>) in
            let due = WakeUp.roundedUp(clock.instant + max(timeout, .zero), stepNanoseconds: Self.waitStepNanoseconds)
            let answerNow = state.withLock { state -> Job?? in
                guard let job = state.jobs[id] else { return .some(nil) }
                if job.status.isTerminal { return .some(job) }
                state.nextWaiter += 1
                state.waiters[id, default: []].append(Waiter(token: state.nextWaiter, continuation: continuation))
                state.waiterCount += 1
                if state.deadlines.count > Self.staleDeadlineSlack, state.deadlines.count > 2 * state.waiterCount {
                    // Tokens are never reused: a deadline whose token no live waiter holds is stale.
                    let live = Set(state.waiters.values.joined().lazy.map(\.token))
                    state.deadlines.removeAll { !live.contains($0.token) }
                }
                state.deadlines.insert(deadline: due, WaitDeadline(jobID: id, token: state.nextWaiter))
                if state.deadlineWakeUp.needsArming(for: due) {
                    state.deadlineWakeUp.arm(at: due, clock: clock) { [self] generation in expireWaits(generation: generation) }
                }
                return .none
            }
            if case .some(let job) = answerNow { continuation.resume(returning: job) }
        }
    }

    /// Resumes every waiter whose time is up with the job as it is now, and answers when to wake
    /// next (nil: no deadline is left). A replaced sleeper (an earlier deadline came in) does
    /// nothing and ends.
    private func expireWaits(generation: UInt64) -> ContinuousClock.Instant? {
        let (expired, next) = state.withLock { state -> ([(Waiter, Job?)], ContinuousClock.Instant?) in
            guard state.deadlineWakeUp.isCurrent(generation) else { return ([], nil) }
            let now = clock.instant
            // Grouped by job: many clients waiting on one job leave its list in one pass each
            // time, not one search and shift per client.
            var due: [String: Set<UInt64>] = [:]
            while let deadline = state.deadlines.popDue(now: now) { due[deadline.jobID, default: []].insert(deadline.token) }
            var expired: [(Waiter, Job?)] = []
            for (jobID, tokens) in due {
                let job = state.jobs[jobID]
                for waiter in state.removeWaiters(of: jobID, tokens: tokens) { expired.append((waiter, job)) }
            }
            return (expired, state.deadlineWakeUp.next(state.deadlines.earliest))
        }
        for (waiter, job) in expired { waiter.continuation.resume(returning: job) }
        return next
    }

    /// Runs a transition and, when it makes the job terminal, wakes its waiters (outside the lock).
    private func wakingWaiters(_ body: (inout State) -> Transition) -> Transition {
        var waiting: [Waiter] = []
        let transition = state.withLock { state -> Transition in
            let transition = body(&state)
            if case .becameTerminal(let job) = transition {
                waiting = state.removeWaiters(of: job.id)
                state.markFinished(job.id)
            }
            return transition
        }
        if case .becameTerminal(let job) = transition {
            for waiter in waiting { waiter.continuation.resume(returning: job) }
        }
        return transition
    }

    /// Requests waiting for jobs to end (for metrics).
    public var waiterCount: Int { state.withLock { $0.waiterCount } }

    /// Wait deadlines held, live and stale (tests: they stay bounded).
    var waitDeadlineCount: Int { state.withLock { $0.deadlines.count } }

    /// Whether a task sleeps until the next wait deadline (tests: none once no deadline is left).
    var waitSleeperArmed: Bool { state.withLock { $0.deadlineWakeUp.isArmed } }

    /// The job, if it exists.
    public func job(id: String) -> Job? { state.withLock { $0.jobs[id] } }

    /// Records the provider's job id after a successful submission.
    public func submitted(id: String, snapshot: ProviderJobSnapshot) -> Job? {
        state.withLock { state in
            guard var job = state.jobs[id] else { return nil }
            job.providerJobID = snapshot.providerJobID
            job.revision += 1
            state.jobs[id] = job
            return job
        }
    }

    /// What `apply` did.
    public enum Transition: Sendable, Equatable {
        /// Unknown job.
        case unknown
        /// Nothing changed (`changed` false), or only the non-terminal status moved.
        case progressed(Job, changed: Bool)
        /// This call made the job terminal: settle it and notify, exactly once.
        case becameTerminal(Job)
        /// The job was already terminal; the snapshot is ignored.
        case alreadyTerminal(Job)
    }

    /// Applies what the provider reported. A terminal snapshot makes the job terminal once:
    /// completed → charged, failed or cancelled → released.
    public func apply(_ snapshot: ProviderJobSnapshot, to id: String, at now: Timestamp) -> Transition {
        wakingWaiters { state in
            guard var job = state.jobs[id] else { return .unknown }
            if job.status.isTerminal { return .alreadyTerminal(job) }
            let before = job
            job.providerStatus = snapshot.providerStatus
            job.revision += 1
            if snapshot.status.isTerminal {
                job.status = snapshot.status
                job.completedAt = now
                switch snapshot.status {
                case .completed:
                    job.resultURLs = snapshot.resultURLs
                    job.billingStatus = .charged
                case .cancelled:
                    // API.md §3: `error` is set once failed; a cancelled job has none.
                    job.billingStatus = .released
                default:
                    job.error = snapshot.error ?? JobError(code: "upstream_error", message: "the provider reported the job \(snapshot.status.rawValue)")
                    job.billingStatus = .released
                }
                state.tally.replace(before, with: job)
                state.jobs[id] = job
                return .becameTerminal(job)
            }
            // Never move backwards from running to queued.
            if !(job.status == .running && snapshot.status == .queued) { job.status = snapshot.status }
            guard job.status != before.status || job.providerStatus != before.providerStatus else { return .progressed(before, changed: false) }
            state.tally.replace(before, with: job)
            state.jobs[id] = job
            return .progressed(job, changed: true)
        }
    }

    /// Fails a job whose outcome never became known by `jobs.max_age_s` (API.md §4): failed with
    /// `upstream_timeout`, and charged because the provider may have billed it.
    public func expire(id: String, at now: Timestamp) -> Transition {
        fail(id: id, at: now, error: JobError(code: "upstream_timeout", message: "the provider did not finish the job within jobs.max_age_s"))
    }

    /// Fails a job whose outcome is unknown, charged because the provider may have billed it:
    /// `max_age` expiry, or a submission the gateway was stopped in the middle of.
    public func fail(id: String, at now: Timestamp, error: JobError) -> Transition {
        wakingWaiters { state in
            guard var job = state.jobs[id] else { return .unknown }
            if job.status.isTerminal { return .alreadyTerminal(job) }
            let before = job
            job.status = .failed
            job.completedAt = now
            job.error = error
            job.billingStatus = .charged
            job.revision += 1
            state.tally.replace(before, with: job)
            state.jobs[id] = job
            return .becameTerminal(job)
        }
    }

    /// A page of one owner's jobs (or everyone's, for the operator), newest first, strictly older
    /// than the `after` cursor (a job id): the resident jobs as they are now, merged with the
    /// stored ones that left memory.
    public func page(owner: String?, status: JobStatus?, limit: Int, after cursor: String?) async throws(StoreError) -> (jobs: [Job], hasMore: Bool) {
        let resident = residentPage(owner: owner, status: status, limit: limit + 1, after: cursor)
        var merged: [String: Job] = [:]
        for job in resident { merged[job.id] = job }
        // The store may hold older copies of resident jobs (whose status may no longer match):
        // read on until `limit + 1` jobs that only the store has, or the store runs out.
        var storeCursor = cursor
        var fromStore = 0
        while fromStore <= limit {
            let batch = try await stateStore.jobs(owner: owner, status: status, before: storeCursor, limit: limit + 1)
            for job in batch where self.job(id: job.id) == nil && merged[job.id] == nil {
                merged[job.id] = job
                fromStore += 1
            }
            guard batch.count == limit + 1, let last = batch.last else { break }
            storeCursor = last.id
        }
        let sorted = merged.values.sorted { $0.id > $1.id }
        return (Array(sorted.prefix(limit)), sorted.count > limit)
    }

    private func residentPage(owner: String?, status: JobStatus?, limit: Int, after cursor: String?) -> [Job] {
        state.withLock { state in
            let ids = owner.map { state.byOwner[$0] ?? [] } ?? state.jobs.keys.sorted()
            var page: [Job] = []
            for id in ids.reversed() {
                if let cursor, id >= cursor { continue }
                guard let job = state.jobs[id], status == nil || job.status == status else { continue }
                page.append(job)
                if page.count == limit { break }
            }
            return page
        }
    }

    /// Marks a charged job refunded by the operator: its money is released.
    public func refunded(id: String) -> Job? {
        state.withLock { state in
            guard var job = state.jobs[id], job.billingStatus == .charged else { return nil }
            let before = job
            job.billingStatus = .released
            job.revision += 1
            state.tally.replace(before, with: job)
            state.jobs[id] = job
            if job.status.isTerminal { state.markFinished(id) }  // just changed: keep it a while longer
            return job
        }
    }

    /// The jobs in memory (every job, until finished ones start leaving: see `evict`).
    public var residentJobs: [Job] { state.withLock { Array($0.jobs.values) } }

    /// Counts and money over every job admitted (resident or not), for reports and `/metrics`.
    public var tally: JobTally { state.withLock { $0.tally } }

    /// Ids of every non-terminal job.
    public var openJobIDs: [String] {
        state.withLock { state in state.jobs.values.filter { !$0.status.isTerminal }.map(\.id) }
    }
}

extension Array where Element == String {
    /// Inserts `id` keeping the array sorted, searching from the end (where new ids belong);
    /// an id already present is not added twice.
    mutating func insertSorted(_ id: String) {
        var index = endIndex
        while index > startIndex && self[index - 1] > id { index -= 1 }
        if index > startIndex && self[index - 1] == id { return }
        insert(id, at: index)
    }
}
