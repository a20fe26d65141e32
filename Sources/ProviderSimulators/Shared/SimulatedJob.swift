import GatewayCore

/// A status of a simulated job.
protocol SimulatedStatus: Sendable {
    /// Whether the job ends at this status.
    var isTerminal: Bool { get }
}

/// What a Krea job and an Evolink task have in common: a walk through statuses, one per step
/// from its creation time, and at most one callback at its end. Each keeps its own statuses and
/// body (its wire format).
protocol SimulatedJob: Sendable {
    associatedtype Status: SimulatedStatus

    var id: String { get }
    var timeline: Timeline { get }
    var markers: SimulatorMarkers { get }
    /// Where the terminal callback goes, if anywhere.
    var callbackURL: String? { get }
    /// The statuses the job walks through, one per step; the last is terminal unless the job
    /// never ends.
    var path: [Status] { get }
    /// Whether a client cancelled it (the cancel sent its own callback, the natural end sends none).
    var isCancelledByClient: Bool { get }

    /// The job as a poll reads it at `now`.
    func json(at now: ContinuousClock.Instant, stepDelay: Duration) -> JSONValue
}

extension SimulatedJob {
    var isCancelledByClient: Bool { false }

    /// Time from creation to the terminal status, or nil when the job never ends by itself.
    func terminalDelay(stepDelay: Duration) -> Duration? {
        let path = path
        guard let last = path.last, last.isTerminal else { return nil }
        return stepDelay * (path.count - 1)
    }

    /// The step reached at `now` (0 at creation) and its status.
    func walk(at now: ContinuousClock.Instant, stepDelay: Duration) -> (step: Int, status: Status) {
        let path = path
        let step = timeline.step(at: now, stepDelay: stepDelay, lastStep: path.count - 1)
        return (step, path[step])
    }
}

extension JobStore where Job: SimulatedJob {
    /// The job as a poll would read it now, as Foundation-style values (objects as
    /// `[String: any Sendable]`, arrays as `[any Sendable]`); nil when unknown or forgotten.
    func sendableJSON(id: String, stepDelay: Duration) -> [String: any Sendable]? {
        get(id)?.json(at: .now, stepDelay: stepDelay).sendableValue as? [String: any Sendable]
    }
}

extension SimulatorCore {
    /// Schedules the one callback a job sends at its natural end, its body as a poll would read
    /// it then. None when the job has no callback URL, opts out (`[sim:nocallback]`) or never
    /// ends, nor when by then it was cancelled by a client or forgotten.
    func scheduleTerminalCallback<Job: SimulatedJob>(for job: Job, in store: JobStore<Job>) {
        let stepDelay = configuration.stepDelay
        guard let url = job.callbackURL, !job.markers.noCallback, let delay = job.terminalDelay(stepDelay: stepDelay) else { return }
        let id = job.id
        callbacks.schedule(after: delay, jobID: id, url: url) {
            guard let job = store.get(id), !job.isCancelledByClient else { return nil }
            let at = max(ContinuousClock.now, job.timeline.created + delay)
            return Array(job.json(at: at, stepDelay: stepDelay).serialized.utf8)
        }
    }
}
