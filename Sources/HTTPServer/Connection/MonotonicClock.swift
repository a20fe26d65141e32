#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The clock of connection deadlines: `CLOCK_MONOTONIC` as whole nanoseconds, in types this
/// module owns.
///
/// `ConnectionStateMachine` reads and compares instants several times per request; with
/// `ContinuousClock.Instant`, a resilient type of the standard library, every copy, comparison
/// and `advanced(by:)` went through value witnesses and showed up in profiles of `/healthz` under
/// load. Here they are integer arithmetic the compiler sees through.
struct MonotonicClock: Clock {
    struct Instant: InstantProtocol {
        /// Nanoseconds since an arbitrary, fixed start (boot).
        var nanoseconds: Int64

        func advanced(by duration: Duration) -> Instant {
            Instant(nanoseconds: nanoseconds &+ MonotonicClock.nanoseconds(of: duration))
        }

        func duration(to other: Instant) -> Duration { .nanoseconds(other.nanoseconds &- nanoseconds) }

        static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.nanoseconds < rhs.nanoseconds }
    }

    static var now: Instant {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Instant(nanoseconds: Int64(spec.tv_sec) &* 1_000_000_000 &+ Int64(spec.tv_nsec))
    }

    var now: Instant { Self.now }

    var minimumResolution: Duration { .nanoseconds(1) }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        let wait = Self.now.duration(to: deadline)
        if wait > .zero { try await Task.sleep(for: wait) }
    }

    /// A duration in nanoseconds, saturating at ±2^62 (about 146 years) so that adding it to an
    /// instant cannot overflow.
    static func nanoseconds(of duration: Duration) -> Int64 {
        let limit: Int64 = 1 << 62
        let (seconds, attoseconds) = duration.components
        if seconds >= limit / 1_000_000_000 { return limit }
        if seconds <= -(limit / 1_000_000_000) { return -limit }
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
