import Foundation
import GatewayCore
import Testing

@Test(arguments: [
    ("0", Int64(0)),
    ("0.000001", 1),
    ("0.0067", 6_700),
    ("0.030", 30_000),
    ("1.5", 1_500_000),
    ("100", 100_000_000),
    ("100.00", 100_000_000),
    ("007.10", 7_100_000),
    ("0.123456", 123_456),
    ("9223372036854.775807", Int64.max),
])
func money_ParsesExactDecimals(text: String, micros: Int64) throws {
    #expect(try Money.parse(text).micros == micros)
    #expect(Money(parsing: text)?.micros == micros)
}

@Test(arguments: ["0.0000001", "0.1234567", "0.0300000", "1.0000000"])
func money_RefusesMoreThanSixFractionalDigits(text: String) {
    #expect(throws: Money.ParseFailure.tooManyFractionDigits) { try Money.parse(text) }
    #expect(Money(parsing: text) == nil)
}

@Test(arguments: [
    "", ".", ".5", "1.", "1e3", "1E-3", " 1", "1 ", "1. 5", "+1", "1_000", "1,5", "0x10",
    "1.2.3", "NaN", "inf", "abc", "٣", "１", "--1", "-", "-.5",
])
func money_RefusesTextThatIsNotAPlainDecimal(text: String) {
    #expect(throws: Money.ParseFailure.notADecimal) { try Money.parse(text) }
}

@Test(arguments: ["-1", "-0.5", "-0"])
func money_RefusesNegativeAmounts(text: String) {
    #expect(throws: Money.ParseFailure.negative) { try Money.parse(text) }
}

@Test(arguments: ["9223372036854.775808", "9223372036855", "99999999999999999999", "18446744073709551616"])
func money_RefusesAmountsThatOverflow(text: String) {
    #expect(throws: Money.ParseFailure.outOfRange) { try Money.parse(text) }
}

@Test(arguments: [
    (Int64(0), "0.00"),
    (1, "0.000001"),
    (30_000, "0.03"),
    (6_700, "0.0067"),
    (1_500_000, "1.50"),
    (100_000_000, "100.00"),
    (123_456, "0.123456"),
    (-10_000, "-0.01"),
    (Int64.max, "9223372036854.775807"),
    (Int64.min, "-9223372036854.775808"),
])
func money_DescriptionHasTwoToSixFractionDigits(micros: Int64, text: String) {
    #expect(Money(micros: micros).description == text)
    #expect("\(Money(micros: micros))" == text)
}

@Test func money_FormattedHonoursTheMinimumFractionDigits() {
    #expect(Money(micros: 30_000).formatted(minimumFractionDigits: 3) == "0.030")
    #expect(Money(micros: 6_700).formatted(minimumFractionDigits: 3) == "0.0067")
    #expect(Money(micros: 1_000_000).formatted(minimumFractionDigits: 0) == "1")
    #expect(Money(micros: 1_200_000).formatted(minimumFractionDigits: 0) == "1.2")
    #expect(Money(micros: 5).formatted(minimumFractionDigits: 9) == "0.000005")
    #expect(Money.zero.formatted(minimumFractionDigits: -3) == "0")
    #expect(Money.zero.formatted(minimumFractionDigits: 2) == "0.00")
    #expect(Money(micros: 100).formatted(minimumFractionDigits: 2) == "0.0001")
    #expect(Money(micros: 10_000_000).formatted(minimumFractionDigits: 1) == "10.0")
    #expect(Money(micros: 12_345_678).formatted(minimumFractionDigits: 6) == "12.345678")
    #expect(Money(micros: -30_000).formatted(minimumFractionDigits: 3) == "-0.030")
    #expect(Money(micros: -1).formatted(minimumFractionDigits: 0) == "-0.000001")
    #expect(Money(micros: .min).formatted(minimumFractionDigits: 0) == "-9223372036854.775808")
}

// Fractional digits: at least the minimum, and no trailing zero beyond it.
@Test func money_FormattedKeepsNoTrailingZeroPastTheMinimum() {
    var generator = SystemRandomNumberGenerator()
    for _ in 0..<500 {
        let micros = Int64.random(in: -10_000_000...10_000_000, using: &generator) * [1, 10, 1000, 1_000_000][Int.random(in: 0...3, using: &generator)]
        for minimum in 0...6 {
            let text = Money(micros: micros).formatted(minimumFractionDigits: minimum)
            let fraction = text.split(separator: ".", omittingEmptySubsequences: false).dropFirst().first ?? ""
            #expect(fraction.count >= minimum, "\(text)")
            if fraction.count > minimum { #expect(fraction.last != "0", "\(text)") }
        }
    }
}

@Test func money_FormattingRoundTripsThroughParsing() throws {
    var generator = SystemRandomNumberGenerator()
    var samples: [Int64] = [0, 1, 9, 10, 999_999, 1_000_000, 1_000_001, Int64.max]
    for _ in 0..<500 { samples.append(Int64.random(in: 0...Int64.max, using: &generator)) }
    for micros in samples {
        let money = Money(micros: micros)
        #expect(try Money.parse(money.description) == money, "\(micros)")
        for digits in 0...6 {
            #expect(try Money.parse(money.formatted(minimumFractionDigits: digits)) == money)
        }
    }
}

@Test func money_CheckedArithmeticReportsOverflow() {
    let max = Money(micros: .max)
    let min = Money(micros: .min)
    #expect(max.adding(Money(micros: 1)) == nil)
    #expect(min.subtracting(Money(micros: 1)) == nil)
    #expect(max.multiplied(by: 2) == nil)
    #expect(Money(micros: 30_000).adding(Money(micros: 6_700)) == Money(micros: 36_700))
    #expect(Money(micros: 30_000).subtracting(Money(micros: 40_000)) == Money(micros: -10_000))
    #expect(Money(micros: 6_700).multiplied(by: 3) == Money(micros: 20_100))
}

@Test func money_OperatorsComputeExactly() throws {
    let price = try Money.parse("0.0067")
    // 0.0067 × 3 is exactly 0.0201; a Double would give 0.020099999999999996.
    #expect(price * 3 == Money(parsing: "0.0201"))
    #expect(3 * price == price * 3)
    var total = Money.zero
    for _ in 0..<1000 { total += price }
    #expect(total == Money(parsing: "6.70"))
    total -= Money(parsing: "7")!
    #expect(total.isNegative)
    #expect(total.description == "-0.30")
    #expect(price + price - price == price)
}

@Test func money_ComparesByValue() throws {
    #expect(try Money.parse("0.03") == Money.parse("0.030000"))
    #expect(try Money.parse("0.0067") < Money.parse("0.03"))
    #expect(try [Money.parse("1"), Money.parse("0.5"), .zero].sorted().map(\.micros) == [0, 500_000, 1_000_000])
}

@Test func money_EncodesAsAJSONString() throws {
    let data = try JSONEncoder().encode(["cost_usd": Money(micros: 6_700)])
    #expect(String(decoding: data, as: UTF8.self) == #"{"cost_usd":"0.0067"}"#)
}

@Test func money_DecodesOnlyADecimalJSONString() throws {
    let decoder = JSONDecoder()
    #expect(try decoder.decode([Money].self, from: Data(#"["0.030","12"]"#.utf8)) == [
        Money(micros: 30_000), Money(micros: 12_000_000),
    ])
    #expect(throws: DecodingError.self) { try decoder.decode([Money].self, from: Data("[0.03]".utf8)) }
    #expect(throws: DecodingError.self) { try decoder.decode([Money].self, from: Data(#"["0.0000001"]"#.utf8)) }
    #expect(throws: DecodingError.self) { try decoder.decode([Money].self, from: Data(#"["-1"]"#.utf8)) }
}
