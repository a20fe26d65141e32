/// Whole counts of a `Duration` in the units other APIs take (NIO's `TimeAmount`, Dispatch,
/// `timeval`, metrics): the one place the gateway turns seconds and attoseconds into them.
///
/// `Duration.components` gives seconds and attoseconds of the same sign, so every count below
/// is exact up to its rounding, and a negative duration gives a negative count.
extension Duration {
    private static let attosecondsPerNanosecond: Int64 = 1_000_000_000
    private static let attosecondsPerMillisecond: Int64 = 1_000_000_000_000_000

    /// Whole nanoseconds, truncated toward zero. Traps beyond ±2^63 ns (about 292 years), like
    /// any `Int64` overflow: use ``saturatingNanoseconds`` where a configured value may be larger.
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / Self.attosecondsPerNanosecond
    }

    /// Whole nanoseconds, rounded toward positive infinity (a deadline never comes early).
    /// Traps where ``nanoseconds`` does.
    public var nanosecondsRoundedUp: Int64 {
        let (seconds, attoseconds) = components
        let part = attoseconds / Self.attosecondsPerNanosecond
        let carry: Int64 = attoseconds > 0 && attoseconds % Self.attosecondsPerNanosecond != 0 ? 1 : 0
        return seconds * 1_000_000_000 + part + carry
    }

    /// Whole nanoseconds, truncated toward zero, held at `Int64.max` (or `Int64.min`) where
    /// the count does not fit, for waits and intervals a configuration may make very long.
    public var saturatingNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (whole, overflowed) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let (total, overflowedAgain) = whole.addingReportingOverflow(attoseconds / Self.attosecondsPerNanosecond)
        guard !overflowed, !overflowedAgain else { return seconds < 0 ? .min : .max }
        return total
    }

    /// Whole milliseconds, truncated toward zero. Traps beyond ±2^63 ms.
    public var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / Self.attosecondsPerMillisecond
    }

    /// Seconds as a `Double` (Foundation's `TimeInterval`, Dispatch's `DispatchTime + seconds`);
    /// exact to the nanosecond below about 104 days.
    public var timeInterval: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
