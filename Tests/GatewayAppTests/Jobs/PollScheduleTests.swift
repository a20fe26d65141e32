import Synchronization
import Testing
@testable import GatewayApp

@Suite("Poll schedule")
struct PollScheduleTests {
    static func entry(_ id: String, at offset: Duration, from start: ContinuousClock.Instant) -> PollSchedule.Entry {
        PollSchedule.Entry(due: start + offset, jobID: id, provider: "krea", createdAt: .now(), interval: .seconds(1))
    }

    @Test func entriesComeOutEarliestFirstTiesInInsertionOrderAndOnlyWhenDue() {
        let start = ContinuousClock.now
        var schedule = PollSchedule()
        // A shuffled insertion order with repeated deadlines.
        let offsets = [5, 1, 9, 3, 3, 7, 0, 9, 2, 6, 1, 8, 4]
        for (index, seconds) in offsets.enumerated() {
            schedule.insert(Self.entry("j\(index)", at: .seconds(seconds), from: start))
        }
        #expect(schedule.count == offsets.count)
        #expect(schedule.earliest == start)
        #expect(schedule.popFirst(dueBy: start - .seconds(1)) == nil)
        var out: [String] = []
        while let entry = schedule.popFirst(dueBy: start + .seconds(4)) { out.append(entry.jobID) }
        #expect(out == ["j6", "j1", "j10", "j8", "j3", "j4", "j12"])
        #expect(schedule.earliest == start + .seconds(5))
        while let entry = schedule.popFirst(dueBy: start + .seconds(100)) { out.append(entry.jobID) }
        #expect(out.suffix(6) == ["j0", "j9", "j5", "j11", "j2", "j7"])
        #expect(schedule.count == 0 && schedule.earliest == nil)
    }

    @Test func dueTimesAreRoundedUpToOneStep() {
        let now = ContinuousClock.now
        for step in [Int64(1_000_000), 7_000_000, 50_000_000] {
            for offset in [0, 1, 7, 49, 50, 51, 99, 1_234] {
                let instant = now + .milliseconds(offset) + .nanoseconds(offset * 1_001)
                let rounded = WakeUp.roundedUp(instant, stepNanoseconds: step)
                #expect(rounded >= instant && rounded - instant < .nanoseconds(step))
                #expect(WakeUp.roundedUp(rounded, stepNanoseconds: step) == rounded)
            }
        }
        // Two instants in one step share their due time.
        let due = WakeUp.roundedUp(now, stepNanoseconds: 50_000_000)
        #expect(WakeUp.roundedUp(due - .milliseconds(1), stepNanoseconds: 50_000_000) == due)
        #expect(WakeUp.roundedUp(due - .milliseconds(49), stepNanoseconds: 50_000_000) == due)
    }

    /// An instant read before the rounding origin was set (or from a clock that runs behind)
    /// still rounds up by less than one step, not to the origin.
    @Test func instantsBeforeTheOriginRoundUpByLessThanAStep() {
        let origin = WakeUp.origin
        for step in [Int64(1_000_000), 7_000_000, 50_000_000] {
            for offset in [Int64(1), 999, 1_000_000, 6_999_999, 49_999_999, 50_000_000, 1_234_567_891, 3_600_000_000_000] {
                let instant = origin - .nanoseconds(offset)
                let rounded = WakeUp.roundedUp(instant, stepNanoseconds: step)
                #expect(rounded >= instant && rounded - instant < .nanoseconds(step), "\(offset) ns before, step \(step)")
                #expect(WakeUp.roundedUp(rounded, stepNanoseconds: step) == rounded)
            }
        }
    }

    /// Configuration allows waits and intervals up to 10^12 s: far instants round to the horizon
    /// instead of overflowing a nanosecond count.
    @Test func farInstantsAndLongIntervalsDoNotOverflow() {
        let far = WakeUp.roundedUp(.now + .seconds(1_000_000_000_000), stepNanoseconds: 10_000_000)
        #expect(far > .now + .seconds(WakeUp.horizonSeconds - 86_400))
        #expect(WakeUp.roundedUp(.now + .seconds(10_000_000_000), stepNanoseconds: 50_000_000) == far)
        #expect(PollSchedule.stepNanoseconds(for: .seconds(1_000_000_000_000)) == 50_000_000)
        #expect(PollSchedule.stepNanoseconds(for: .milliseconds(999)) == 50_000_000)
    }

    /// A tenth of the interval, between 1 ms and 50 ms: a 1 ms interval is not stretched to 50 ms.
    @Test func stepIsATenthOfTheIntervalBetween1And50Milliseconds() {
        #expect(PollSchedule.stepNanoseconds(for: .zero) == 1_000_000)
        #expect(PollSchedule.stepNanoseconds(for: .milliseconds(1)) == 1_000_000)
        #expect(PollSchedule.stepNanoseconds(for: .milliseconds(20)) == 2_000_000)
        #expect(PollSchedule.stepNanoseconds(for: .milliseconds(250)) == 25_000_000)
        #expect(PollSchedule.stepNanoseconds(for: .seconds(3)) == 50_000_000)
        #expect(PollSchedule.stepNanoseconds(for: .seconds(3_600)) == 50_000_000)
    }
}
