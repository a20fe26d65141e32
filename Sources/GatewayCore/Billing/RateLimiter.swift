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

    private struct PerKey {
        /// Admission times (ms) within the last minute, oldest first.
        var recent: [Int64] = []
        var running = 0
        var requestsByWindow: [Ledger.Window: Int] = [:]
    }

    private let state = Mutex<[String: PerKey]>([:])

    public init() {}

    /// Admits one submission or answers 429 with `Retry-After`. On success the submission counts
    /// toward `rpm` and `max_concurrent` until `finished` (or `rollBack` if it is then refused).
    public func admit(keyID: String, limits: Limits, at now: Timestamp) -> Result<Void, APIError> {
        state.withLock { keys in
            var entry = keys[keyID] ?? PerKey()
            let minuteAgo = now.unixMilliseconds - 60_000
            if let first = entry.recent.firstIndex(where: { $0 > minuteAgo }) {
                entry.recent.removeFirst(first)
            } else {
                entry.recent.removeAll(keepingCapacity: true)
            }
            if let rpm = limits.rpm, entry.recent.count >= rpm {
                let wait = entry.recent[entry.recent.count - rpm] + 60_000 - now.unixMilliseconds
                keys[keyID] = entry
                return .failure(APIError(status: 429, kind: .rateLimit, code: "rate_limited",
                                         message: "rate limit of \(rpm) requests per minute reached",
                                         retryAfterSeconds: max(1, Int((wait + 999) / 1000))))
            }
            if let maxConcurrent = limits.maxConcurrent, entry.running >= maxConcurrent {
                keys[keyID] = entry
                return .failure(APIError(status: 429, kind: .rateLimit, code: "too_many_concurrent_jobs",
                                         message: "\(maxConcurrent) jobs are already running for this key",
                                         retryAfterSeconds: 1))
            }
            entry.recent.append(now.unixMilliseconds)
            entry.running += 1
            keys[keyID] = entry
            return .success(())
        }
    }

    /// Undoes an admission that was then refused (budget) before reaching a provider.
    public func rollBack(keyID: String, admittedAt now: Timestamp) {
        state.withLock { keys in
            guard var entry = keys[keyID] else { return }
            if let index = entry.recent.lastIndex(of: now.unixMilliseconds) { entry.recent.remove(at: index) }
            entry.running = max(0, entry.running - 1)
            keys[keyID] = entry
        }
    }

    /// Counts an admitted request in the windows given (its UTC day and its budget windows).
    public func count(keyID: String, in windows: [Ledger.Window]) {
        state.withLock { keys in
            for window in windows { keys[keyID, default: PerKey()].requestsByWindow[window, default: 0] += 1 }
        }
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
            return Counts(requestsLastMinute: entry.recent.filter { $0 > minuteAgo }.count, running: entry.running)
        }
    }

    /// Requests counted for the key in a window.
    public func requests(keyID: String, in window: Ledger.Window) -> Int {
        state.withLock { $0[keyID]?.requestsByWindow[window] ?? 0 }
    }
}
