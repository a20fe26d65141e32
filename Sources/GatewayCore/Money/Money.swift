/// An amount of US dollars held as integer micro-dollars (1 USD = 1,000,000 micros).
///
/// Money is never a floating-point number inside the gateway (API.md §0, STYLE.md). Text is read
/// with ``init(parsing:)`` / ``parse(_:)`` — an exact decimal with at most 6 fractional digits — and
/// written by ``description`` (see there for the rule).
///
/// The value itself may be negative (for example a remaining budget after an operator lowered a
/// limit), but text with a sign is never accepted: configuration and API input is non-negative.
public struct Money: Sendable, Hashable, Comparable {
    /// The amount in micro-dollars.
    public let micros: Int64

    /// Micro-dollars in one dollar.
    public static let microsPerDollar: Int64 = 1_000_000

    /// The most fractional digits a decimal text may have (one micro-dollar).
    public static let maximumFractionDigits = 6

    /// No money.
    public static let zero = Money(micros: 0)

    /// An amount of `micros` micro-dollars.
    public init(micros: Int64) {
        self.micros = micros
    }

    /// Whether the amount is below zero.
    public var isNegative: Bool { micros < 0 }

    /// Orders amounts by value.
    public static func < (lhs: Money, rhs: Money) -> Bool {
        lhs.micros < rhs.micros
    }
}

// MARK: - Parsing

extension Money {
    /// Why a text is not an amount of money.
    public enum ParseFailure: Error, Sendable, Hashable, CustomStringConvertible {
        /// Not of the form `digits` or `digits.digits` (empty, spaces, exponent, `.5`, `1.`, letters…).
        case notADecimal
        /// Starts with `-`: amounts are never negative.
        case negative
        /// More than 6 digits after the point.
        case tooManyFractionDigits
        /// Larger than `Int64.max` micro-dollars.
        case outOfRange

        /// A short message, suitable after a configuration path (`….usd: not a decimal`).
        public var description: String {
            switch self {
            case .notADecimal: "not a decimal"
            case .negative: "must not be negative"
            case .tooManyFractionDigits: "more than \(Money.maximumFractionDigits) fractional digits"
            case .outOfRange: "amount too large"
            }
        }
    }

    /// Reads an exact decimal amount of dollars.
    ///
    /// Grammar: `digits ["." digits]`, ASCII digits only, 1…6 fractional digits when a point is
    /// present. Refused: a sign (`-1`, `+1`), an exponent (`1e3`), spaces, `"."`, `".5"`, `"1."`,
    /// separators (`1_000`, `1,000`), and amounts above `Int64.max` micro-dollars. Leading zeros are
    /// allowed (`"0.030"`, `"007"`); trailing fractional zeros count toward the 6-digit limit
    /// (`"0.0300000"` is refused).
    public static func parse(_ text: String) throws(ParseFailure) -> Money {
        let bytes = Array(text.utf8)
        if bytes.first == UInt8(ascii: "-") {
            // Only call it "negative" when the rest would have been a decimal; `-x` is just wrong.
            if (try? parse(String(decoding: bytes.dropFirst(), as: UTF8.self))) != nil {
                throw .negative
            }
            throw .notADecimal
        }
        let point = bytes.firstIndex(of: UInt8(ascii: "."))
        let whole = bytes[..<(point ?? bytes.endIndex)]
        let fraction = point.map { bytes[($0 + 1)...] } ?? []
        guard !whole.isEmpty, whole.allSatisfy(isDigit) else { throw .notADecimal }
        if point != nil {
            guard !fraction.isEmpty, fraction.allSatisfy(isDigit) else { throw .notADecimal }
        }
        guard fraction.count <= maximumFractionDigits else { throw .tooManyFractionDigits }

        var dollars: Int64 = 0
        for digit in whole {
            let (shifted, o1) = dollars.multipliedReportingOverflow(by: 10)
            let (next, o2) = shifted.addingReportingOverflow(Int64(digit - UInt8(ascii: "0")))
            guard !o1, !o2 else { throw .outOfRange }
            dollars = next
        }
        var fractionMicros: Int64 = 0
        for index in 0..<maximumFractionDigits {
            let digit = index < fraction.count ? fraction[fraction.startIndex + index] : UInt8(ascii: "0")
            fractionMicros = fractionMicros * 10 + Int64(digit - UInt8(ascii: "0"))
        }
        let (wholeMicros, o1) = dollars.multipliedReportingOverflow(by: microsPerDollar)
        let (total, o2) = wholeMicros.addingReportingOverflow(fractionMicros)
        guard !o1, !o2 else { throw .outOfRange }
        return Money(micros: total)
    }

    /// Reads an exact decimal amount of dollars, or `nil` when ``parse(_:)`` would refuse it.
    public init?(parsing text: String) {
        guard let money = try? Money.parse(text) else { return nil }
        self = money
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }
}

// MARK: - Formatting

extension Money: CustomStringConvertible {
    /// The amount as a decimal string of dollars with at least 2 and at most 6 fractional digits:
    /// trailing zeros past the second fractional digit are trimmed.
    ///
    /// `0` → `"0.00"`, `0.03` → `"0.03"`, `0.0067` → `"0.0067"`, `100` → `"100.00"`,
    /// `0.000001` → `"0.000001"`, `-1.5` → `"-1.50"`. ``parse(_:)`` reads every non-negative
    /// result back to the same value.
    public var description: String {
        formatted(minimumFractionDigits: 2)
    }

    /// The amount as a decimal string with at least `minimumFractionDigits` (clamped to 0…6)
    /// fractional digits; further trailing zeros are trimmed and no point is written when no
    /// fractional digit remains. `formatted(minimumFractionDigits: 3)` gives `"0.030"`.
    public func formatted(minimumFractionDigits: Int) -> String {
        let minimum = min(max(minimumFractionDigits, 0), Money.maximumFractionDigits)
        // The magnitude as UInt64 so that Int64.min does not trap.
        let magnitude = micros.magnitude
        let perDollar = UInt64(Money.microsPerDollar)
        let whole = String(magnitude / perDollar)
        // Trailing zeros past `minimum` dropped by arithmetic: this runs for every answer that
        // carries a price, and Character-by-Character trimming cost more than the rest.
        var fraction = magnitude % perDollar
        var digits = Money.maximumFractionDigits
        while digits > minimum, fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        let sign = micros < 0 ? "-" : ""
        guard digits > 0 else { return sign + whole }
        let written = String(fraction)
        return sign + whole + "." + String(repeating: "0", count: digits - written.utf8.count) + written
    }
}

// MARK: - Codable

extension Money: Codable {
    /// Decodes a JSON string in the ``parse(_:)`` grammar; a JSON number is refused, as API.md
    /// requires money to travel as a string.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            self = try Money.parse(text)
        } catch {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "money: \(error.description)")
        }
    }

    /// Encodes ``description`` as a JSON string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
