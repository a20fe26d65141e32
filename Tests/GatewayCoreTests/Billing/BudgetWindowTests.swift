import Testing
@testable import GatewayCore

@Suite("Budget windows")
struct BudgetWindowTests {
    /// Milliseconds of a UTC date and time.
    static func at(_ year: Int64, _ month: Int64, _ day: Int64, _ hour: Int64 = 0, _ minute: Int64 = 0, _ second: Int64 = 0, ms: Int64 = 0) -> Timestamp {
        Timestamp(unixMilliseconds: (BudgetWindow.daysFromCivil(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second) * 1000 + ms)
    }

    @Test func daily_StartsAtMidnightUTC() {
        #expect(BudgetWindow.start(of: .daily, containing: Self.at(2026, 11, 21, 23, 59, 59, ms: 999)) == Self.at(2026, 11, 21))
        #expect(BudgetWindow.start(of: .daily, containing: Self.at(2026, 11, 22)) == Self.at(2026, 11, 22))
        #expect(BudgetWindow.end(of: .daily, containing: Self.at(2026, 11, 21, 12)) == Self.at(2026, 11, 22))
    }

    @Test func weekly_StartsMondayMidnight() {
        // 2026-11-23 is a Monday.
        #expect(BudgetWindow.start(of: .weekly, containing: Self.at(2026, 11, 22, 23, 59, 59)) == Self.at(2026, 11, 16))
        #expect(BudgetWindow.start(of: .weekly, containing: Self.at(2026, 11, 23)) == Self.at(2026, 11, 23))
        #expect(BudgetWindow.start(of: .weekly, containing: Self.at(2026, 11, 29, 12)) == Self.at(2026, 11, 23))
        #expect(BudgetWindow.end(of: .weekly, containing: Self.at(2026, 11, 25)) == Self.at(2026, 11, 30))
        // A week spanning a year end.
        #expect(BudgetWindow.start(of: .weekly, containing: Self.at(2027, 1, 1)) == Self.at(2026, 12, 28))
    }

    @Test func monthly_StartsOnTheFirstAndHandlesMonthEnds() {
        #expect(BudgetWindow.start(of: .monthly, containing: Self.at(2026, 11, 30, 23, 59, 59)) == Self.at(2026, 11, 1))
        #expect(BudgetWindow.end(of: .monthly, containing: Self.at(2026, 11, 30)) == Self.at(2026, 12, 1))
        #expect(BudgetWindow.end(of: .monthly, containing: Self.at(2026, 12, 31, 23)) == Self.at(2027, 1, 1))
        #expect(BudgetWindow.start(of: .monthly, containing: Self.at(2027, 1, 1)) == Self.at(2027, 1, 1))
    }

    @Test func leapDay_BelongsToFebruaryAndItsOwnDay() {
        #expect(BudgetWindow.start(of: .daily, containing: Self.at(2028, 2, 29, 18)) == Self.at(2028, 2, 29))
        #expect(BudgetWindow.end(of: .daily, containing: Self.at(2028, 2, 29, 18)) == Self.at(2028, 3, 1))
        #expect(BudgetWindow.end(of: .monthly, containing: Self.at(2028, 2, 15)) == Self.at(2028, 3, 1))
        #expect(BudgetWindow.end(of: .monthly, containing: Self.at(2027, 2, 15)) == Self.at(2027, 3, 1))
        #expect(Self.at(2028, 2, 29).rfc3339 == "2028-02-29T00:00:00Z")
    }

    @Test func total_NeverResets() {
        #expect(BudgetWindow.start(of: .total, containing: Self.at(2026, 11, 21)) == Timestamp(unixMilliseconds: 0))
        #expect(BudgetWindow.end(of: .total, containing: Self.at(2026, 11, 21)) == nil)
    }

    @Test func civilDate_RoundTripsAcrossCenturies() {
        for days in stride(from: Int64(-800_000), through: 800_000, by: 997) {
            let date = BudgetWindow.civilDate(fromDays: days)
            #expect(BudgetWindow.daysFromCivil(year: date.year, month: date.month, day: date.day) == days)
        }
    }
}
