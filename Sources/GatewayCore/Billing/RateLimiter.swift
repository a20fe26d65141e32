import Synchronization

/// Per-key rate limits (API.md §4): `rpm` over a rolling minute of admitted submissions, and
/// `max_concurrent` non-terminal jobs. Also counts each key's admitted requests per UTC day and
/// per budget window, for `/v1/usage`.
public final class RateLimiter: Sendable {
    /// A key's limits; `nil` = unlimited.
    public struct Limits: Sendable, Equatable {
        public var rpm: Int?
        public var maxConcurrent: Int?
        public init(rpm: Int?, maxConcurrent: Int?) { self.rpm = rpm; self.maxConcurrent = maxConcurrent }
    }

    /// A key's current counts.
    public struct Counts: Sendable, Equatable {
        public var requestsLastMinute: Int
        public var running: Int
    }

    fileprivate struct PerKey {
        /// Admission times (ms) of the last `rpm` admissions, oldest first; only kept when the key
        /// has an `rpm` (that many are all the rolling-minute check ever needs).
        var recent: [Int64] = []
        /// Admissions per second over the last minute (a ring of 60), for every key.
        var perSecond: [(second: Int64, count: Int)] = []
        var running = 0
        var requestsByWindow: [Ledger.Window: Int] = [:]
    }

    private let state = Mutex<[String: PerKey]>([:])

    public init() {}

    /// Admits one submission or answers 429 with `Retry-After`. On success the submission counts
    /// toward `rpm` and `max_concurrent` until `finished` (or `rollBack` if it is then refused).
    /// The key's entry is mutated in place (no copy), and holds at most `rpm` timestamps.
    public func admit(keyID: String, limits: Limits, at now: Timestamp) -> Result<Void, APIError> {
        state.withLock { keys in
            keys[keyID, default: PerKey()].admit(limits: limits, at: now)
        }
    }

    /// Undoes an admission that was then refused (budget) before reaching a provider.
    public func rollBack(keyID: String, admittedAt now: Timestamp) {
        state.withLock { keys in keys[keyID]?.rollBack(admittedAt: now) }
    }

    /// Counts an admitted request in the windows given (its UTC day and its budget windows).
    public func count(keyID: String, in windows: [Ledger.Window]) {
        state.withLock { keys in
            for window in windows { keys[keyID, default: PerKey()].requestsByWindow[window, default: 0] += 1 }
        }
    }

    /// Adds `requests` to a key's count in one window (start-up: the stored totals).
    public func count(keyID: String, in window: Ledger.Window, requests: Int) {
        state.withLock { keys in keys[keyID, default: PerKey()].requestsByWindow[window, default: 0] += requests }
    }

    /// Counts a job that was already running before a restart toward `max_concurrent`.
    public func resumeRunning(keyID: String) {
        state.withLock { keys in keys[keyID, default: PerKey()].running += 1 }
    }

    /// A job of this key is no longer running (terminal, or its submission failed).
    public func finished(keyID: String) {
        state.withLock { keys in
            if keys[keyID] != nil { keys[keyID]!.running = max(0, keys[keyID]!.running - 1) }
        }
    }

    /// The key's counts now.
    public func counts(keyID: String, at now: Timestamp) -> Counts {
        state.withLock { keys in
            let entry = keys[keyID] ?? PerKey()
            let minuteAgo = now.unixMilliseconds - 60_000
            _ = minuteAgo
            let second = now.unixMilliseconds / 1000
            let lastMinute = entry.perSecond.filter { $0.second > second - 60 }.reduce(0) { $0 + $1.count }
            return Counts(requestsLastMinute: lastMinute, running: entry.running)
        }
    }

    /// Requests counted for the key in a window.
    public func requests(keyID: String, in window: Ledger.Window) -> Int {
        state.withLock { $0[keyID]?.requestsByWindow[window] ?? 0 }
    }
}

extension RateLimiter.PerKey {
    mutating func admit(limits: RateLimiter.Limits, at now: Timestamp) -> Result<Void, APIError> {
        if let rpm = limits.rpm {
            let minuteAgo = now.unixMilliseconds - 60_000
            // At most `rpm` entries: the oldest that still counts decides.
            if recent.count >= rpm, let oldest = recent.dropLast(rpm - 1).last, oldest > minuteAgo {
                let wait = oldest + 60_000 - now.unixMilliseconds
                return .failure(APIError(status: 429, kind: .rateLimit, code: "rate_limited",
                                         message: "rate limit of \(rpm) requests per minute reached",
                                         retryAfterSeconds: max(1, Int((wait + 999) / 1000))))
            }
        }
        if let maxConcurrent = limits.maxConcurrent, running >= maxConcurrent {
            return .failure(APIError(status: 429, kind: .rateLimit, code: "too_many_concurrent_jobs",
                                     message: "\(maxConcurrent) jobs are already running for this key",
                                     retryAfterSeconds: 1))
        }
        if let rpm = limits.rpm {
            recent.append(now.unixMilliseconds)
            if recent.count > rpm { recent.removeFirst(recent.count - rpm) }
        }
        running += 1
        let second = now.unixMilliseconds / 1000
        if perSecond.isEmpty { perSecond = Array(repeating: (-1, 0), count: 60) }
        let slot = Int(second % 60)
        if perSecond[slot].second == second { perSecond[slot].count += 1 } else { perSecond[slot] = (second, 1) }
        return .success(())
    }

    mutating func rollBack(admittedAt now: Timestamp) {
        if let index = recent.lastIndex(of: now.unixMilliseconds) { recent.remove(at: index) }
        let slot = Int(now.unixMilliseconds / 1000 % 60)
        if perSecond.indices.contains(slot), perSecond[slot].second == now.unixMilliseconds / 1000 {
            perSecond[slot].count = max(0, perSecond[slot].count - 1)
        }
        running = max(0, running - 1)
    }
}
