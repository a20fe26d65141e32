import Deadlines
import GatewayCore
import Logging
import Providers
import Storage
import Synchronization

/// Follows every non-terminal job to its end (API.md §6): a poller per job with backoff from the
/// provider's `poll_interval_s`, bounded concurrency across all jobs, `jobs.max_age_s` expiry,
/// and re-reads on provider callbacks. The `JobRegistry` guarantees one terminal transition; the
/// tracker calls `onTerminal` exactly once per job with it. Pollers run on the executors it is
/// given (the gateway passes the HTTP server's loops), so a poll wakes no thread of its own.
public final class JobTracker: Sendable {
    /// The longest wait between two polls of one job.
    static let maxPollInterval: Duration = .seconds(30)
    /// Consecutive 404s after which the provider is taken to have lost the job.
    static let notFoundLimit = 3

    private let jobs: JobRegistry
    private let stateStore: any StateStore
    private let clock: any GatewayClock
    private struct Upstreams {
        var providers: [String: any ImageProvider]
        var pollIntervals: [String: Duration]
    }

    /// Swapped by a config reload; a provider the new config drops stays for the jobs it has.
    private let upstreams: Mutex<Upstreams>
    private let maxAge: Duration
    private let fetchPermits: AsyncSemaphore
    private let logger: Logger
    private let onTerminal: @Sendable (Job) -> Void
    /// Pollers running now (between their first poll and the job's end).
    private let pollers = Mutex<[String: Task<Void, Never>]>([:])
    /// Jobs waiting for their first poll, and the one task that sleeps until the earliest is due.
    private let schedule = Mutex(PollSchedule())
    /// Set by `stop()`: a submission that finishes during shutdown starts no new poller.
    private let stopped = Atomic<Bool>(false)
    /// Callback-driven re-reads of open jobs (see `refresh`), by job id; gone when the job ends.
    private let refreshes = Mutex<[String: RefreshState]>([:])
    /// Where pollers run, taken in turn (empty: Swift's global executor).
    private let executors: [any TaskExecutor]
    private let nextExecutor = Atomic<Int>(0)

    init(jobs: JobRegistry, stateStore: any StateStore, providers: [String: any ImageProvider], configuration: GatewayConfiguration,
         maxConcurrentFetches: Int = 64, executors: [any TaskExecutor] = [], clock: any GatewayClock = SystemClock(), logger: Logger,
         onTerminal: @escaping @Sendable (Job) -> Void) {
        self.jobs = jobs
        self.executors = executors
        self.stateStore = stateStore
        self.clock = clock
        self.upstreams = Mutex(Upstreams(
            providers: providers, pollIntervals: Dictionary(uniqueKeysWithValues: configuration.providers.map { ($0.name, $0.pollInterval) })))
        self.maxAge = configuration.jobs.maxAge
        self.fetchPermits = AsyncSemaphore(permits: maxConcurrentFetches)
        self.logger = logger
        self.onTerminal = onTerminal
    }

    /// Uses the providers of a reloaded configuration from now on (polls in flight finish with
    /// the adapter they started with).
    func replaceProviders(_ providers: [String: any ImageProvider], configuration: GatewayConfiguration) {
        upstreams.withLock { upstreams in
            upstreams.providers.merge(providers) { _, new in new }
            for provider in configuration.providers { upstreams.pollIntervals[provider.name] = provider.pollInterval }
        }
    }

    /// Starts following a submitted job: its first poll is due one poll interval from now (or at
    /// its `max_age`, if sooner).
    ///
    /// No task is made per job until that poll: the job waits in a schedule that one task works
    /// through, sleeping until the earliest entry is due. Most jobs end by callback before their
    /// first poll, and a submission then costs a heap insertion instead of a task and a timer.
    func track(_ job: Job) {
        guard !stopped.load(ordering: .acquiring) else { return }
        let interval = upstreams.withLock { $0.pollIntervals[job.provider] } ?? .seconds(3)
        let untilExpiry = Duration.milliseconds(job.createdAt.adding(maxAge).unixMilliseconds - clock.now().unixMilliseconds)
        let entry = PollSchedule.Entry(
            due: WakeUp.roundedUp(clock.instant + max(min(interval, untilExpiry), .zero), stepNanoseconds: PollSchedule.stepNanoseconds(for: interval)),
            jobID: job.id, provider: job.provider,
            createdAt: job.createdAt, interval: interval)
        schedule.withLock { schedule in
            // Checked again under the lock `stop()` empties the schedule in: a job tracked while
            // the gateway stops arms no sleeper after it.
            guard !stopped.load(ordering: .acquiring) else { return }
            schedule.insert(entry)
            guard schedule.wakeUp.needsArming(for: entry.due) else { return }
            schedule.wakeUp.arm(at: entry.due, clock: clock) { [self] generation in startDuePollers(generation: generation) }
        }
    }

    /// Starts a poller for every entry that is due and answers when to wake next (nil: no entry
    /// is left). A replaced sleeper (an earlier entry came in) does nothing and ends.
    private func startDuePollers(generation: UInt64) -> ContinuousClock.Instant? {
        let (due, next) = schedule.withLock { schedule -> ([PollSchedule.Entry], ContinuousClock.Instant?) in
            guard schedule.wakeUp.isCurrent(generation) else { return ([], nil) }
            let now = clock.instant
            var due: [PollSchedule.Entry] = []
            while let entry = schedule.popFirst(dueBy: now) { due.append(entry) }
            return (due, schedule.wakeUp.next(schedule.earliest))
        }
        startPollers(due)
        return next
    }

    private func startPollers(_ due: [PollSchedule.Entry]) {
        guard !stopped.load(ordering: .acquiring) else { return }
        for entry in due {
            // Filed in the critical section that checks `stopped` and the job, so `stop()` cancels
            // it, and a job that ends after the check finds it filed (`finished` removes it): a
            // job that ended meanwhile (by callback, cancel or refresh) or was forgotten gets none.
            pollers.withLock { pollers in
                guard !stopped.load(ordering: .acquiring) else { return }
                guard let job = jobs.job(id: entry.jobID), !job.status.isTerminal else { return }
                pollers[entry.jobID] = Task.detached(executorPreference: nextPollerExecutor()) { [self] in
                    await poll(jobID: entry.jobID, provider: entry.provider, createdAt: entry.createdAt, interval: entry.interval)
                }
            }
        }
    }

    /// The executor of the next poller: the given ones in turn, or none (the global executor).
    private func nextPollerExecutor() -> (any TaskExecutor)? {
        guard !executors.isEmpty else { return nil }
        let turn = nextExecutor.add(1, ordering: .relaxed).oldValue
        return executors[Int(UInt(bitPattern: turn) % UInt(executors.count))]
    }

    /// Jobs waiting for a fetch permit.
    public var pollerBacklog: Int { fetchPermits.waiting }

    /// Stops every poller (shutdown).
    func stop() {
        stopped.store(true, ordering: .releasing)
        schedule.withLock { $0.removeAll() }
        let tasks = pollers.withLock { pollers in
            defer { pollers.removeAll() }
            return Array(pollers.values)
        }
        for task in tasks { task.cancel() }
    }

    /// A provider called back about this job: re-read it from the provider before acting, since
    /// callbacks are unsigned (API.md §6).
    ///
    /// Re-reads of one job are coalesced: at most one in flight and one started per
    /// `refreshSpacing`; callbacks that come meanwhile fold into one trailing re-read. A leaked
    /// callback URL, replayed as fast as anyone likes, costs the provider one read a second.
    func refresh(jobID: String) async {
        guard let open = jobs.job(id: jobID), !open.status.isTerminal else { return }
        switch refreshes.withLock({ Self.claim(&$0, jobID, now: clock.instant) }) {
        case .coalesced, .gone:
            return
        case .wait(var wait):
            // This call owns the one trailing re-read.
            while true {
                do { try await clock.sleep(for: wait) } catch { return }
                switch refreshes.withLock({ Self.takeTrailing(&$0, jobID, now: clock.instant) }) {
                case .start: break
                case .wait(let more): wait = more; continue
                case .gone, .coalesced: return
                }
                break
            }
        case .start:
            break
        }
        if let job = jobs.job(id: jobID), !job.status.isTerminal { _ = await fetchAndApply(job) }
        refreshes.withLock { all in
            all[jobID]?.inFlight = false
            // A job that ended keeps no entry (`finished` removes it too; this covers a race with it).
            if jobs.job(id: jobID)?.status.isTerminal ?? true { all[jobID] = nil }
        }
    }

    /// The least time between two callback-driven re-reads of one job.
    static let refreshSpacing: Duration = .seconds(1)

    struct RefreshState {
        var inFlight = false
        var lastStarted: ContinuousClock.Instant?
        /// A call already waits to re-read once more.
        var trailing = false
    }

    enum RefreshClaim: Equatable { case start, wait(Duration), coalesced, gone }

    /// A new callback's re-read: now, after a wait (this call then owns the trailing re-read), or
    /// folded into the trailing one already waiting.
    static func claim(_ all: inout [String: RefreshState], _ id: String, now: ContinuousClock.Instant) -> RefreshClaim {
        var state = all[id] ?? RefreshState()
        if state.trailing { return .coalesced }
        if !state.inFlight, state.lastStarted.map({ now >= $0 + refreshSpacing }) ?? true {
            state.inFlight = true
            state.lastStarted = now
            all[id] = state
            return .start
        }
        state.trailing = true
        all[id] = state
        return .wait(max(.zero, (state.lastStarted ?? now) + refreshSpacing - now))
    }

    /// The trailing re-read's turn: start it, wait more (one is in flight, or the spacing has
    /// not passed), or stop (the job ended).
    static func takeTrailing(_ all: inout [String: RefreshState], _ id: String, now: ContinuousClock.Instant) -> RefreshClaim {
        guard var state = all[id] else { return .gone }
        if state.inFlight { return .wait(refreshSpacing) }
        if let last = state.lastStarted, now < last + refreshSpacing { return .wait(last + refreshSpacing - now) }
        state.trailing = false
        state.inFlight = true
        state.lastStarted = now
        all[id] = state
        return .start
    }

    /// Jobs with callback re-read state (tests: it goes with the job).
    var refreshStateCount: Int { refreshes.withLock { $0.count } }

    /// Applies a provider snapshot and settles once when it is terminal. Progress is recorded
    /// without waiting for the disk (a restart re-reads it from the provider anyway).
    @discardableResult
    func apply(_ snapshot: ProviderJobSnapshot, to jobID: String) -> JobRegistry.Transition {
        let transition = jobs.apply(snapshot, to: jobID, at: clock.now())
        switch transition {
        case .becameTerminal(let job): finished(job)
        case .progressed(let job, changed: true): _ = stateStore.enqueue([.job(job)])
        default: break
        }
        return transition
    }

    /// Ends a job whose outcome cannot be known (charged, as at `max_age`).
    func fail(jobID: String, error: JobError) {
        if case .becameTerminal(let job) = jobs.fail(id: jobID, at: clock.now(), error: error) { finished(job) }
    }

    private func finished(_ job: Job) {
        // Its poller may be asleep for up to 30 s: wake it to end now rather than hold on. (A job
        // still waiting for its first poll is skipped when that comes due.)
        pollers.withLock { $0.removeValue(forKey: job.id) }?.cancel()
        refreshes.withLock { $0[job.id] = nil }
        logger.info("job finished", metadata: ["job_id": "\(job.id)", "status": "\(job.status.rawValue)", "billing": "\(job.billingStatus.rawValue)"])
        onTerminal(job)
    }

    /// Polls a job from its first due poll to its end: fetch, back off, sleep, until the job is
    /// terminal, lost or past `max_age`. `interval` is the wait that preceded this first poll.
    private func poll(jobID: String, provider: String, createdAt: Timestamp, interval first: Duration) async {
        var interval = first
        let deadline = createdAt.adding(maxAge)
        var notFound = 0
        while !Task.isCancelled {
            guard let job = jobs.job(id: jobID), !job.status.isTerminal else { return }
            if clock.now() < deadline {
                switch await fetchAndApply(job) {
                case .finished: return
                case .notFound:
                    notFound += 1
                    if notFound >= Self.notFoundLimit {
                        let lost = ProviderJobSnapshot(
                            providerJobID: job.providerJobID ?? "", status: .failed, providerStatus: "not_found",
                            error: JobError(code: "upstream_error", message: "the provider no longer knows the job"))
                        apply(lost, to: jobID)
                        return
                    }
                case .pending, .failedToRead:
                    notFound = 0
                }
                interval = min(interval * 3 / 2, Self.maxPollInterval)
            }
            let now = clock.now()
            let untilExpiry = Duration.milliseconds(deadline.unixMilliseconds - now.unixMilliseconds)
            if untilExpiry <= .zero {
                let transition = jobs.expire(id: jobID, at: now)
                if case .becameTerminal(let job) = transition { finished(job) }
                return
            }
            do {
                try await clock.sleep(for: min(interval, untilExpiry))
            } catch {
                return
            }
        }
    }

    private enum FetchOutcome { case finished, pending, notFound, failedToRead }

    private func fetchAndApply(_ job: Job) async -> FetchOutcome {
        guard let provider = upstreams.withLock({ $0.providers[job.provider] }), let providerJobID = job.providerJobID else { return .failedToRead }
        await fetchPermits.acquire()
        defer { fetchPermits.release() }
        do {
            let snapshot = try await provider.fetch(providerJobID: providerJobID, upstreamModel: job.providerModel)
            switch apply(snapshot, to: job.id) {
            case .becameTerminal, .alreadyTerminal, .unknown: return .finished
            case .progressed: return .pending
            }
        } catch {
            if error.kind == .notFound { return .notFound }
            logger.warning("job poll failed", metadata: ["job_id": "\(job.id)", "provider": "\(job.provider)", "error": "\(error.kind.rawValue)"])
            return .failedToRead
        }
    }
}

/// Jobs waiting for their first poll, earliest first (ties in insertion order), with the task
/// that sleeps until the earliest is due.
struct PollSchedule {
    struct Entry {
        var due: ContinuousClock.Instant
        var jobID: String
        var provider: String
        var createdAt: Timestamp
        var interval: Duration
    }

    private var entries = DeadlineHeap<ContinuousClock.Instant, Entry>()
    /// The task that sleeps until the earliest entry is due.
    var wakeUp = WakeUp()

    var count: Int { entries.count }
    var earliest: ContinuousClock.Instant? { entries.earliest }

    mutating func insert(_ entry: Entry) { entries.insert(deadline: entry.due, entry) }

    /// Drops every entry and stops the sleeping task (whose generation is retired, so it cannot
    /// be mistaken for a later one).
    mutating func removeAll() {
        entries = DeadlineHeap()
        wakeUp.cancel()
    }

    /// Due times are rounded up to a step, so the entries of one step share one wake-up rather
    /// than each waking the sleeper. The step is a tenth of the poll interval, at least 1 ms and
    /// at most 50 ms: a first poll is never more than 10 % (or 1 ms) later than asked.
    static let maxStepNanoseconds: Int64 = 50_000_000
    static let minStepNanoseconds: Int64 = 1_000_000
    /// The rounding step, in nanoseconds, for jobs polled every `interval`.
    static func stepNanoseconds(for interval: Duration) -> Int64 {
        min(max(interval.saturatingNanoseconds / 10, minStepNanoseconds), maxStepNanoseconds)
    }

    /// The earliest entry when it is due by `now`, removed.
    mutating func popFirst(dueBy now: ContinuousClock.Instant) -> Entry? { entries.popDue(now: now) }
}
