import GatewayCore

/// The one task that sleeps until the earliest of many deadlines: kept in its owner's locked
/// state beside a `DeadlineHeap` (the tracker's first-poll schedule, the `Prefer: wait`
/// deadlines), so that entries cost a heap insertion each instead of a task and a timer.
///
/// The task is replaced only when an earlier deadline comes in. When it wakes it calls `fire`
/// with its generation; the owner, under its lock, checks ``isCurrent(_:)``, takes what is due
/// and answers with the next deadline, which the same task then sleeps until (``next(_:)``).
struct WakeUp {
    /// When the task wakes; nil when none sleeps.
    private(set) var at: ContinuousClock.Instant?
    private var task: Task<Void, Never>?
    /// Tells the current task from replaced ones.
    private var generation: UInt64 = 0

    /// Whether a task sleeps now.
    var isArmed: Bool { task != nil }

    /// Whether a deadline at `due` needs the task replaced: none sleeps, or it wakes later.
    func needsArming(for due: ContinuousClock.Instant) -> Bool { at.map { due < $0 } ?? true }

    /// Replaces the sleeping task with one that wakes at `due` and calls `fire` with its
    /// generation, again and again while `fire` answers with a next deadline. Detached: a task
    /// made inside a request would carry that request's task-locals down every later wake-up.
    mutating func arm(at due: ContinuousClock.Instant, clock: any GatewayClock, _ fire: @escaping @Sendable (UInt64) -> ContinuousClock.Instant?) {
        task?.cancel()
        generation &+= 1
        let generation = generation
        at = due
        task = Task.detached {
            var due = due
            while true {
                do { try await clock.sleep(until: due) } catch { return }
                guard let next = fire(generation) else { return }
                due = next
            }
        }
    }

    /// Whether the task that woke with `generation` is the current one (a replaced one must do nothing).
    func isCurrent(_ generation: UInt64) -> Bool { generation == self.generation }

    /// After the current task's wake-up: it sleeps again until `due`, or ends when there is none.
    mutating func next(_ due: ContinuousClock.Instant?) -> ContinuousClock.Instant? {
        at = due
        if due == nil { task = nil }
        return due
    }

    /// Stops the sleeping task. Its generation is retired too: a task already past its sleep
    /// and waiting for the owner's lock finds it is no longer current and does nothing.
    mutating func cancel() {
        task?.cancel()
        task = nil
        at = nil
        generation &+= 1
    }

    /// Where the rounding grid starts: the first time a deadline is rounded.
    static let origin = ContinuousClock.now
    /// About 100 years: the latest deadline kept exactly.
    static let horizonSeconds: Int64 = 100 * 366 * 86_400

    /// `instant` rounded up to a multiple of `stepNanoseconds` (counted from a fixed origin), so
    /// the deadlines of one step share one wake-up. In whole nanoseconds: a division of durations
    /// as Double could push an exact multiple of the step over it.
    ///
    /// Instants before the origin round up too (the origin is set on first use, which may come
    /// after the instant was read, and an injected clock may run behind the process's): clamping
    /// them to the origin would push a deadline later by however long that was.
    /// Instants more than ``horizonSeconds`` past the origin are rounded to it instead:
    /// configuration allows waits and intervals far longer than an `Int64` count of nanoseconds.
    static func roundedUp(_ instant: ContinuousClock.Instant, stepNanoseconds: Int64) -> ContinuousClock.Instant {
        let offset = instant - origin
        guard offset.components.seconds < horizonSeconds else { return origin + .seconds(horizonSeconds) }
        guard offset.components.seconds > -horizonSeconds else { return instant }
        // Rounded toward positive infinity on both sides of the origin (integer division
        // truncates toward zero, which is upwards for a negative count).
        let nanoseconds = offset.nanosecondsRoundedUp
        let steps = nanoseconds >= 0 ? (nanoseconds + stepNanoseconds - 1) / stepNanoseconds : nanoseconds / stepNanoseconds
        return origin + .nanoseconds(steps * stepNanoseconds)
    }
}
