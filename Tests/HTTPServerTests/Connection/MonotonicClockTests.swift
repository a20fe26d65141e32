import Testing
@testable import HTTPServer

@Suite("MonotonicClock")
struct MonotonicClockTests {
    @Test func clock_InstantsAdvanceAndMeasureInNanoseconds() {
        let start = MonotonicClock.Instant(nanoseconds: 1_000)
        #expect(start.advanced(by: .seconds(2)).nanoseconds == 2_000_001_000)
        #expect(start.advanced(by: .milliseconds(-1)).nanoseconds == 1_000 - 1_000_000)
        #expect(start.duration(to: start.advanced(by: .microseconds(1_500))) == .microseconds(1_500))
        #expect(start < start.advanced(by: .nanoseconds(1)))
    }

    @Test func clock_HugeDurationsSaturateInsteadOfOverflowing() {
        let start = MonotonicClock.now
        let far = start.advanced(by: .seconds(Int64.max))
        #expect(far > start)
        #expect(start.advanced(by: .seconds(Int64.min)) < start)
    }

    @Test func clock_NowDoesNotGoBackwards() {
        var previous = MonotonicClock.now
        for _ in 0..<1000 {
            let next = MonotonicClock.now
            #expect(next >= previous)
            previous = next
        }
    }
}
