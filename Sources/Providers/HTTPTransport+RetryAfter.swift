import Foundation
import GatewayCore

extension HTTPTransport {
    /// The shortest and longest wait passed on from a provider's `Retry-After`: a `0` would
    /// invite a hot loop, a day-long value from a misbehaving upstream would strand clients.
    static let retryAfterBounds = 1...3600

    /// Seconds to wait from a `Retry-After` value (RFC 9110 §10.2.3): delay-seconds or an
    /// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), clamped to ``retryAfterBounds``; `nil`
    /// when absent or unreadable (the caller applies the provider's documented default).
    static func retryAfterSeconds(_ value: String?, now: Date = Date()) -> Int? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        let seconds: Int
        if value.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
            // Many digits: saturate rather than fail, it is clamped below anyway.
            seconds = Int(value) ?? Int.max
        } else if let date = imfFixdate(value) {
            seconds = Int((date - now.timeIntervalSince1970).rounded(.up))
        } else {
            return nil
        }
        return min(max(seconds, retryAfterBounds.lowerBound), retryAfterBounds.upperBound)
    }

    /// Seconds since 1970 of an IMF-fixdate (RFC 9110 §5.6.7), or `nil`.
    static func imfFixdate(_ text: String) -> Double? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[0].count == 4, parts[0].hasSuffix(","), parts[5] == "GMT",
              let day = Int(parts[1]), parts[1].count == 2, (1...31).contains(day),
              let monthIndex = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"].firstIndex(of: String(parts[2])),
              let year = Int(parts[3]), parts[3].count == 4
        else { return nil }
        let time = parts[4].split(separator: ":")
        guard time.count == 3, time.allSatisfy({ $0.count == 2 }),
              let hour = Int(time[0]), let minute = Int(time[1]), let second = Int(time[2]),
              hour < 24, minute < 60, second < 61
        else { return nil }
        let days = BudgetWindow.daysFromCivil(year: Int64(year), month: Int64(monthIndex + 1), day: Int64(day))
        return Double(days * 86_400 + Int64(hour * 3_600 + minute * 60 + second))
    }
}
