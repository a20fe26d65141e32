/// The time the gateway's domain reads: wall-clock timestamps (jobs, budget windows, ledger
/// lines) and a monotonic instant for deadlines (polls, `Prefer: wait`), and a way to sleep until
/// one. Injected everywhere the domain reads time, so that tests move time by hand instead of
/// sleeping.
public protocol GatewayClock: Sendable {
    /// The wall-clock time now.
    func now() -> Timestamp
    /// The monotonic time now.
    var instant: ContinuousClock.Instant { get }
    /// Suspends until the monotonic time reaches `deadline`; throws `CancellationError` when the
    /// task is cancelled first.
    func sleep(until deadline: ContinuousClock.Instant) async throws
}

extension GatewayClock {
    /// Suspends for `duration` of monotonic time.
    public func sleep(for duration: Duration) async throws {
        try await sleep(until: instant.advanced(by: duration))
    }
}

/// The machine's clocks: `CLOCK_REALTIME` for timestamps, `ContinuousClock` for deadlines.
public struct SystemClock: GatewayClock {
    public init() {}

    public func now() -> Timestamp { .now() }

    public var instant: ContinuousClock.Instant { .now }

    public func sleep(until deadline: ContinuousClock.Instant) async throws {
        try await Task.sleep(until: deadline, clock: .continuous)
    }
}
