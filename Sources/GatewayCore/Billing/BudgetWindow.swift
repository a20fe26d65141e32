#if canImport(Glibc)
import Glibc
#endif

/// UTC calendar windows (API.md §4): a window is identified by its start; a new window simply
/// starts at zero, so no reset job exists.
public enum BudgetWindow {
    public typealias Period = GatewayConfiguration.Budget.Period

    /// The start of the window of `period` that contains `time`: 00:00 UTC of the day, of the
    /// Monday of the week, of the 1st of the month; the epoch for `total`.
    public static func start(of period: Period, containing time: Timestamp) -> Timestamp {
        let day = daysSinceEpoch(time)
        switch period {
        case .total:
            return Timestamp(unixMilliseconds: 0)
        case .daily:
            return Timestamp(unixMilliseconds: day * 86_400_000)
        case .weekly:
            // 1970-01-01 was a Thursday: Monday-based weekday is (day + 3) mod 7.
            let weekday = ((day + 3) % 7 + 7) % 7
            return Timestamp(unixMilliseconds: (day - weekday) * 86_400_000)
        case .monthly:
            let (year, month, _) = civilDate(fromDays: day)
            return Timestamp(unixMilliseconds: daysFromCivil(year: year, month: month, day: 1) * 86_400_000)
        }
    }

    /// When the window containing `time` ends (the next window's start); `nil` for `total`.
    public static func end(of period: Period, containing time: Timestamp) -> Timestamp? {
        let start = start(of: period, containing: time)
        let day = daysSinceEpoch(start)
        switch period {
        case .total: return nil
        case .daily: return Timestamp(unixMilliseconds: (day + 1) * 86_400_000)
        case .weekly: return Timestamp(unixMilliseconds: (day + 7) * 86_400_000)
        case .monthly:
            let (year, month, _) = civilDate(fromDays: day)
            let next = month == 12 ? (year + 1, 1) : (year, month + 1)
            return Timestamp(unixMilliseconds: daysFromCivil(year: next.0, month: next.1, day: 1) * 86_400_000)
        }
    }

    static func daysSinceEpoch(_ time: Timestamp) -> Int64 {
        let ms = time.unixMilliseconds
        return ms >= 0 ? ms / 86_400_000 : (ms - 86_399_999) / 86_400_000
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
    public static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date of a day count since 1970-01-01.
    public static func civilDate(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
