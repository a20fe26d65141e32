import GatewayCore
import Synchronization

/// A `GatewayClock` that moves only when a test says so: `advance(by:)` moves both the wall clock
/// and the monotonic one and resumes every sleeper whose deadline it passes. Tests of schedules
/// and deadlines run in no real time and cannot be made flaky by a slow machine.
public final class ManualClock: GatewayClock {
    private struct Sleeper {
        let deadline: ContinuousClock.Instant
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var elapsed: Duration = .zero
        var sleepers: [UInt64: Sleeper] = [:]
        var nextSleeper: UInt64 = 0
    }

    private let state = Mutex(State())
    private let origin = ContinuousClock.now
    private let wallOrigin: Timestamp

    /// Starts at `wall` (by default a fixed instant, so tests see the same dates every run).
    public init(wall: Timestamp = Timestamp(unixMilliseconds: 1_800_000_000_000)) { wallOrigin = wall }

    public func now() -> Timestamp { wallOrigin.adding(state.withLock { $0.elapsed }) }

    public var instant: ContinuousClock.Instant { origin + state.withLock { $0.elapsed } }

    /// Tasks sleeping on this clock now.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    public func sleep(until deadline: ContinuousClock.Instant) async throws {
        let id = state.withLock { state in
            state.nextSleeper += 1
            return state.nextSleeper
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                enum Now { case wait, resume, cancel }
                let now = state.withLock { state -> Now in
                    if Task.isCancelled { return .cancel }
                    if deadline <= origin + state.elapsed { return .resume }
                    state.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                    return .wait
                }
                switch now {
                case .wait: break
                case .resume: continuation.resume()
                case .cancel: continuation.resume(throwing: CancellationError())
                }
            }
        } onCancel: {
            state.withLock { $0.sleepers.removeValue(forKey: id) }?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves time forward and wakes the sleepers that are due, earliest first.
    public func advance(by duration: Duration) {
        let due = state.withLock { state -> [Sleeper] in
            state.elapsed += duration
            let now = origin + state.elapsed
            let ids = state.sleepers.filter { $0.value.deadline <= now }.sorted { $0.value.deadline < $1.value.deadline }.map(\.key)
            return ids.compactMap { state.sleepers.removeValue(forKey: $0) }
        }
        for sleeper in due { sleeper.continuation.resume() }
    }
}
