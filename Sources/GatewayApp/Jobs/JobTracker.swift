import GatewayCore
import Logging
import Providers
import Storage
import Synchronization

/// Follows every non-terminal job to its end (API.md §6): a poller per job with backoff from the
/// provider's `poll_interval_s`, bounded concurrency across all jobs, `jobs.max_age_s` expiry,
/// and re-reads on provider callbacks. The `JobStore` guarantees one terminal transition; the
/// tracker calls `onTerminal` exactly once per job with it.
public final class JobTracker: Sendable {
    /// The longest wait between two polls of one job.
    static let maxPollInterval: Duration = .seconds(30)
    /// Consecutive 404s after which the provider is taken to have lost the job.
    static let notFoundLimit = 3

    private let store: JobStore
    private let journal: any StateStore
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
    private let pollers = Mutex<[String: Task<Void, Never>]>([:])
    /// Set by `stop()`: a submission that finishes during shutdown starts no new poller.
    private let stopped = Atomic<Bool>(false)

    init(store: JobStore, journal: any StateStore, providers: [String: any ImageProvider], configuration: GatewayConfiguration,
         maxConcurrentFetches: Int = 64, logger: Logger, onTerminal: @escaping @Sendable (Job) -> Void) {
        self.store = store
        self.journal = journal
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

    /// Starts following a submitted job.
    ///
    /// The task is created and filed in one critical section: a poller that finds its job
    /// already over (an expired job at recovery) and ends at once still finds itself filed, and
    /// is removed rather than left behind.
    func track(_ job: Job) {
        guard !stopped.load(ordering: .acquiring) else { return }
        pollers.withLock { pollers in
            pollers[job.id] = Task { [self] in
                await poll(jobID: job.id, provider: job.provider, createdAt: job.createdAt)
            }
        }
    }

    /// Jobs waiting for a fetch permit.
    public var pollerBacklog: Int { fetchPermits.waiting }

    /// Stops every poller (shutdown).
    func stop() {
        stopped.store(true, ordering: .releasing)
        let tasks = pollers.withLock { pollers in
            defer { pollers.removeAll() }
            return Array(pollers.values)
        }
        for task in tasks { task.cancel() }
    }

    /// A provider called back about this job: re-read it from the provider before acting, since
    /// callbacks are unsigned (API.md §6).
    func refresh(jobID: String) async {
        guard let job = store.job(id: jobID), !job.status.isTerminal else { return }
        _ = await fetchAndApply(job)
    }

    /// Applies a provider snapshot and settles once when it is terminal. Progress is recorded
    /// without waiting for the disk (a restart re-reads it from the provider anyway).
    @discardableResult
    func apply(_ snapshot: ProviderJobSnapshot, to jobID: String) -> JobStore.Transition {
        let transition = store.apply(snapshot, to: jobID, at: .now())
        switch transition {
        case .becameTerminal(let job): finished(job)
        case .progressed(let job, changed: true): _ = journal.enqueue([.job(job)])
        default: break
        }
        return transition
    }

    /// Ends a job whose outcome cannot be known (charged, as at `max_age`).
    func fail(jobID: String, error: JobError) {
        if case .becameTerminal(let job) = store.fail(id: jobID, at: .now(), error: error) { finished(job) }
    }

    private func finished(_ job: Job) {
        // Its poller may be asleep for up to 30 s: wake it to end now rather than hold on.
        pollers.withLock { $0.removeValue(forKey: job.id) }?.cancel()
        logger.info("job finished", metadata: ["job_id": "\(job.id)", "status": "\(job.status.rawValue)", "billing": "\(job.billingStatus.rawValue)"])
        onTerminal(job)
    }

    private func poll(jobID: String, provider: String, createdAt: Timestamp) async {
        var interval = upstreams.withLock { $0.pollIntervals[provider] } ?? .seconds(3)
        let deadline = createdAt.adding(maxAge)
        var notFound = 0
        while !Task.isCancelled {
            let now = Timestamp.now()
            let untilExpiry = Duration.milliseconds(deadline.unixMilliseconds - now.unixMilliseconds)
            if untilExpiry <= .zero {
                let transition = store.expire(id: jobID, at: now)
                if case .becameTerminal(let job) = transition { finished(job) }
                return
            }
            do {
                try await Task.sleep(for: min(interval, untilExpiry))
            } catch {
                return
            }
            guard let job = store.job(id: jobID), !job.status.isTerminal else { return }
            if Timestamp.now() >= deadline { continue }
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
