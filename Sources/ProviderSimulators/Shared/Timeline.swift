import Foundation
import GatewayCore

/// When a job was created, on the monotonic clock (for its lifecycle) and the wall clock (for its
/// timestamps). A job's status is computed from this on every read: no timer per job.
struct Timeline: Sendable {
    let created: ContinuousClock.Instant
    let createdUnixMillis: Int64

    /// Now.
    static func now() -> Timeline {
        Timeline(created: .now, createdUnixMillis: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)))
    }

    /// Index of the step reached at `now`, 0 at creation, at most `lastStep`.
    func step(at now: ContinuousClock.Instant, stepDelay: Duration, lastStep: Int) -> Int {
        guard lastStep > 0 else { return 0 }
        guard stepDelay > .zero else { return lastStep }
        let elapsed = now - created
        guard elapsed > .zero else { return 0 }
        return min(Int(elapsed / stepDelay), lastStep)
    }

    /// Wall-clock milliseconds at which `step` is reached.
    func unixMillis(ofStep step: Int, stepDelay: Duration) -> Int64 {
        createdUnixMillis + (stepDelay * step).milliseconds
    }

    /// Wall-clock milliseconds of a monotonic instant after creation.
    func unixMillis(of instant: ContinuousClock.Instant) -> Int64 {
        createdUnixMillis + (instant - created).milliseconds
    }

    /// Seconds since the epoch at creation.
    var createdUnixSeconds: Int64 { createdUnixMillis / 1000 }
}

/// RFC 3339 timestamps in UTC with milliseconds (`2026-03-01T09:30:00.125Z`).
enum RFC3339 {
    static func format(unixMillis: Int64) -> String {
        var time = time_t(unixMillis / 1000)
        var parts = tm()
        gmtime_r(&time, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(width - text.count, 0)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(unixMillis % 1000), 3))Z"
    }
}
