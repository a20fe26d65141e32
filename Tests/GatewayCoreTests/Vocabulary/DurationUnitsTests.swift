import Testing
import GatewayCore

@Suite("Duration units")
struct DurationUnitsTests {
    @Test func nanoseconds_TruncateTowardZero() {
        #expect(Duration.seconds(2).nanoseconds == 2_000_000_000)
        #expect(Duration.milliseconds(1500).nanoseconds == 1_500_000_000)
        #expect((Duration.nanoseconds(7) + .seconds(1)).nanoseconds == 1_000_000_007)
        // Below a nanosecond: the part is dropped, whichever the sign.
        #expect(Duration(secondsComponent: 1, attosecondsComponent: 999_999_999).nanoseconds == 1_000_000_000)
        #expect(Duration(secondsComponent: -1, attosecondsComponent: -999_999_999).nanoseconds == -1_000_000_000)
        #expect(Duration.milliseconds(-250).nanoseconds == -250_000_000)
        #expect(Duration.zero.nanoseconds == 0)
    }

    @Test func nanosecondsRoundedUp_GoesTowardPositiveInfinity() {
        #expect(Duration.seconds(3).nanosecondsRoundedUp == 3_000_000_000)
        #expect(Duration(secondsComponent: 1, attosecondsComponent: 1).nanosecondsRoundedUp == 1_000_000_001)
        #expect(Duration(secondsComponent: 0, attosecondsComponent: 1_000_000_001).nanosecondsRoundedUp == 2)
        #expect(Duration(secondsComponent: 0, attosecondsComponent: 2_000_000_000).nanosecondsRoundedUp == 2)
        #expect(Duration(secondsComponent: 0, attosecondsComponent: -1_500_000_000).nanosecondsRoundedUp == -1)
        #expect(Duration.nanoseconds(-1).nanosecondsRoundedUp == -1)
    }

    @Test func saturatingNanoseconds_HoldsAtTheBounds() {
        #expect(Duration.milliseconds(20).saturatingNanoseconds == 20_000_000)
        #expect(Duration.seconds(9_223_372_036).saturatingNanoseconds == 9_223_372_036_000_000_000)
        // One second more than an Int64 count of nanoseconds holds, and a wait of 10^12 s.
        #expect(Duration.seconds(9_223_372_037).saturatingNanoseconds == .max)
        #expect(Duration.seconds(1_000_000_000_000).saturatingNanoseconds == .max)
        #expect(Duration.seconds(-1_000_000_000_000).saturatingNanoseconds == .min)
        // The seconds fit, the attoseconds push it over.
        #expect(Duration(secondsComponent: 9_223_372_036, attosecondsComponent: 900_000_000_000_000_000).saturatingNanoseconds == .max)
    }

    @Test func milliseconds_TruncateTowardZero() {
        #expect(Duration.seconds(2).milliseconds == 2000)
        #expect(Duration.microseconds(2_999).milliseconds == 2)
        #expect(Duration.microseconds(-2_999).milliseconds == -2)
        #expect((Duration.seconds(1) + .milliseconds(250)).milliseconds == 1250)
    }

    @Test func timeInterval_IsSecondsAsDouble() {
        #expect(Duration.milliseconds(1500).timeInterval == 1.5)
        #expect(Duration.seconds(-2).timeInterval == -2)
        #expect(Duration.zero.timeInterval == 0)
    }
}
