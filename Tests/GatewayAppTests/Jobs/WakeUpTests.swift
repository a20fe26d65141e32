import GatewayCore
import GatewayTestSupport
import Synchronization
import Testing
@testable import GatewayApp

/// The one sleeping task behind many deadlines, on a clock the tests move by hand.
@Suite("WakeUp")
struct WakeUpTests {
    final class Fires: Sendable {
        let log = Mutex<[UInt64]>([])
        let wakeUp = Mutex(WakeUp())
    }


    /// One task serves every deadline it is handed back, then ends when there is none.
    @Test func theSameTaskSleepsUntilEachNextDeadline() async throws {
        let clock = ManualClock()
        let fires = Fires()
        fires.wakeUp.withLock { wakeUp in
            wakeUp.arm(at: clock.instant + .milliseconds(5), clock: clock) { generation in
                fires.wakeUp.withLock { wakeUp -> ContinuousClock.Instant? in
                    guard wakeUp.isCurrent(generation) else { return nil }
                    let count = fires.log.withLock { log in log.append(generation); return log.count }
                    return wakeUp.next(count < 3 ? clock.instant + .milliseconds(5) : nil)
                }
            }
        }
        try await eventually { clock.sleeperCount == 1 }
        clock.advance(by: .milliseconds(4))
        try await Task.sleep(for: .milliseconds(20))
        #expect(fires.log.withLock { $0 }.isEmpty, "nothing fires before its deadline")
        for fired in 1...3 {
            clock.advance(by: .milliseconds(5))
            try await eventually { fires.log.withLock { $0.count } == fired && (fired == 3 || clock.sleeperCount == 1) }
        }
        try await eventually { !fires.wakeUp.withLock { $0.isArmed } }
        #expect(fires.log.withLock { $0 } == [1, 1, 1])
        #expect(fires.wakeUp.withLock { $0.at == nil && !$0.isArmed })
        #expect(clock.sleeperCount == 0)
    }

    /// A cancelled task's generation is retired: one already past its sleep does nothing.
    @Test func cancellingRetiresTheGeneration() async throws {
        let clock = ManualClock()
        var wakeUp = WakeUp()
        wakeUp.arm(at: clock.instant + .seconds(3_600), clock: clock) { _ in nil }
        #expect(wakeUp.isCurrent(1) && wakeUp.isArmed)
        wakeUp.cancel()
        #expect(!wakeUp.isCurrent(1) && !wakeUp.isArmed && wakeUp.at == nil)
        #expect(wakeUp.needsArming(for: clock.instant + .seconds(7_200)))
        try await eventually { clock.sleeperCount == 0 }
        #expect(clock.sleeperCount == 0, "the cancelled task stopped sleeping")
    }

    /// An earlier deadline replaces the sleeping task; the replaced one never fires.
    @Test func anEarlierDeadlineReplacesTheTask() async throws {
        let clock = ManualClock()
        let fires = Fires()
        let fire: @Sendable (UInt64) -> ContinuousClock.Instant? = { generation in
            fires.wakeUp.withLock { wakeUp -> ContinuousClock.Instant? in
                fires.log.withLock { $0.append(generation) }
                return wakeUp.isCurrent(generation) ? wakeUp.next(nil) : nil
            }
        }
        let late = clock.instant + .milliseconds(150)
        fires.wakeUp.withLock { $0.arm(at: late, clock: clock, fire) }
        let early = clock.instant + .milliseconds(5)
        fires.wakeUp.withLock { wakeUp in
            #expect(wakeUp.needsArming(for: early) && !wakeUp.needsArming(for: late + .milliseconds(1)))
            wakeUp.arm(at: early, clock: clock, fire)
        }
        try await eventually { clock.sleeperCount == 1 }
        clock.advance(by: .milliseconds(200))
        try await eventually { !fires.wakeUp.withLock { $0.isArmed } }
        try await Task.sleep(for: .milliseconds(20))
        #expect(fires.log.withLock { $0 } == [2])
        #expect(clock.sleeperCount == 0)
    }
}
