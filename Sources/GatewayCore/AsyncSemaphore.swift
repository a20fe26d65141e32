import Synchronization

/// Bounds how many async operations run at once; waiters are resumed in arrival order.
public final class AsyncSemaphore: Sendable {
    private struct State: ~Copyable {
        var available: Int
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state: Mutex<State>

    public init(permits: Int) { state = Mutex(State(available: permits)) }

    public func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state -> Bool in
                if state.available > 0 { state.available -= 1; return true }
                state.waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    public func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiters.isEmpty { state.available += 1; return nil }
            return state.waiters.removeFirst()
        }
        next?.resume()
    }

    /// Operations waiting for a permit (the poller backlog).
    public var waiting: Int { state.withLock { $0.waiters.count } }
}
