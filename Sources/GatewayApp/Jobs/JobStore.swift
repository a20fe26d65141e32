import GatewayCore
import Providers
import Synchronization

/// The jobs the gateway tracks, in memory (the working set; the `StateStore` is the durable
/// record). Every state change goes through here, under one lock, so a job makes exactly one
/// terminal transition however many callbacks and polls race; each change bumps the job's
/// `revision`, which keeps the durable copy from going back in time.
public final class JobStore: Sendable {
    private struct State: ~Copyable {
        var jobs: [String: Job] = [:]
        /// Each owner's job ids in creation order (ids sort by time).
        var byOwner: [String: [String]] = [:]
        /// Requests waiting for a job to end (`Prefer: wait`), by job id.
        var waiters: [String: [Waiter]] = [:]
        var nextWaiter: UInt64 = 0
    }

    private struct Waiter {
        let token: UInt64
        let continuation: CheckedContinuation<Job?, Never>
    }

    private let state = Mutex(State())

    public init() {}

    /// Adds a new job.
    public func insert(_ job: Job) {
        state.withLock { state in
            state.jobs[job.id] = job
            state.byOwner[job.ownerKeyID, default: []].append(job.id)
        }
    }

    /// Puts back the jobs read from the durable store (start-up), oldest first.
    public func restore(_ jobs: [Job]) {
        state.withLock { state in
            for job in jobs {
                state.jobs[job.id] = job
                state.byOwner[job.ownerKeyID, default: []].append(job.id)
            }
        }
    }

    /// Forgets a job whose submission was refused (the client got an error, never its id).
    public func remove(id: String) {
        let waiting = state.withLock { state -> [Waiter] in
            guard let job = state.jobs.removeValue(forKey: id) else { return [] }
            state.byOwner[job.ownerKeyID]?.removeAll { $0 == id }
            return state.waiters.removeValue(forKey: id) ?? []
        }
        for waiter in waiting { waiter.continuation.resume(returning: nil) }
    }

    /// Waits until the job is terminal or `timeout` passes, and returns it as it is then (`nil`
    /// for an unknown job). No thread waits: the request's task is suspended until the job's
    /// terminal transition or its timer resumes it (`Prefer: wait`).
    public func waitUntilTerminal(id: String, timeout: Duration) async -> Job? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Job?, Never>) in
            let registered = state.withLock { state -> (token: UInt64?, now: Job?) in
                guard let job = state.jobs[id] else { return (nil, nil) }
                if job.status.isTerminal { return (nil, job) }
                state.nextWaiter += 1
                state.waiters[id, default: []].append(Waiter(token: state.nextWaiter, continuation: continuation))
                return (state.nextWaiter, nil)
            }
            guard let token = registered.token else { return continuation.resume(returning: registered.now) }
            Task { [self] in
                try? await Task.sleep(for: timeout)
                stopWaiting(id: id, token: token)
            }
        }
    }

    /// A waiter's time is up: it gets the job as it is now.
    private func stopWaiting(id: String, token: UInt64) {
        let resumed = state.withLock { state -> (Waiter, Job?)? in
            guard let index = state.waiters[id]?.firstIndex(where: { $0.token == token }) else { return nil }
            let waiter = state.waiters[id]!.remove(at: index)
            if state.waiters[id]?.isEmpty == true { state.waiters[id] = nil }
            return (waiter, state.jobs[id])
        }
        if let (waiter, job) = resumed { waiter.continuation.resume(returning: job) }
    }

    /// Runs a transition and, when it makes the job terminal, wakes its waiters (outside the lock).
    private func wakingWaiters(_ body: (inout State) -> Transition) -> Transition {
        var waiting: [Waiter] = []
        let transition = state.withLock { state -> Transition in
            let transition = body(&state)
            if case .becameTerminal(let job) = transition { waiting = state.waiters.removeValue(forKey: job.id) ?? [] }
            return transition
        }
        if case .becameTerminal(let job) = transition {
            for waiter in waiting { waiter.continuation.resume(returning: job) }
        }
        return transition
    }

    /// Requests waiting for jobs to end (for metrics).
    public var waiterCount: Int { state.withLock { $0.waiters.values.reduce(0) { $0 + $1.count } } }

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
                state.jobs[id] = job
                return .becameTerminal(job)
            }
            // Never move backwards from running to queued.
            if !(job.status == .running && snapshot.status == .queued) { job.status = snapshot.status }
            guard job.status != before.status || job.providerStatus != before.providerStatus else { return .progressed(before, changed: false) }
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
            job.status = .failed
            job.completedAt = now
            job.error = error
            job.billingStatus = .charged
            job.revision += 1
            state.jobs[id] = job
            return .becameTerminal(job)
        }
    }

    /// A page of one owner's jobs (or everyone's, for the operator), newest first, strictly older
    /// than the `after` cursor (a job id).
    public func list(owner: String?, status: JobStatus?, limit: Int, after cursor: String?) -> (jobs: [Job], hasMore: Bool) {
        state.withLock { state in
            let ids = owner.map { state.byOwner[$0] ?? [] } ?? state.jobs.keys.sorted()
            var page: [Job] = []
            var hasMore = false
            for id in ids.reversed() {
                if let cursor, id >= cursor { continue }
                guard let job = state.jobs[id], status == nil || job.status == status else { continue }
                if page.count == limit { hasMore = true; break }
                page.append(job)
            }
            return (page, hasMore)
        }
    }

    /// Every job (for reports).
    public var allJobs: [Job] { state.withLock { Array($0.jobs.values) } }

    /// Marks a charged job refunded by the operator: its money is released.
    public func refunded(id: String) -> Job? {
        state.withLock { state in
            guard var job = state.jobs[id], job.billingStatus == .charged else { return nil }
            job.billingStatus = .released
            job.revision += 1
            state.jobs[id] = job
            return job
        }
    }

    /// Money held and spent by (key, team, model), and job counts by status, over every job kept
    /// (for `/metrics`), computed under the lock without copying the jobs.
    struct Totals: Sendable {
        struct Group: Hashable, Sendable {
            var key: String
            var team: String
            var model: String
        }

        var byStatus: [JobStatus: Int] = [:]
        var spent: [Group: Money] = [:]
        var reserved: [Group: Money] = [:]
    }

    var totals: Totals {
        state.withLock { state in
            var totals = Totals()
            for job in state.jobs.values {
                totals.byStatus[job.status, default: 0] += 1
                let group = Totals.Group(key: job.ownerKeyID, team: job.team ?? "", model: job.model)
                switch job.billingStatus {
                case .charged: totals.spent[group, default: .zero] += job.cost
                case .reserved: totals.reserved[group, default: .zero] += job.cost
                case .released: _ = totals.spent[group, default: .zero]
                }
            }
            return totals
        }
    }

    /// Ids of every non-terminal job.
    public var openJobIDs: [String] {
        state.withLock { state in state.jobs.values.filter { !$0.status.isTerminal }.map(\.id) }
    }
}
