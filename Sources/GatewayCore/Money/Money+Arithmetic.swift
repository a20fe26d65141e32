/// Arithmetic on ``Money``.
///
/// Two flavours, as with Swift's integers:
/// - `adding(_:)`, `subtracting(_:)`, `multiplied(by:)` **report** overflow by returning `nil`;
///   use them wherever the operands come from outside (configuration, API input, sums of many
///   jobs) so an absurd amount becomes an error rather than a crash.
/// - `+`, `-`, `*`, `+=`, `-=` **trap** on overflow, like `Int64`; use them where the amounts are
///   already known to be bounded (for example the sum of two prices).
extension Money {
    /// `self + other`, or `nil` when the result does not fit in `Int64` micro-dollars.
    public func adding(_ other: Money) -> Money? {
        let (result, overflow) = micros.addingReportingOverflow(other.micros)
        return overflow ? nil : Money(micros: result)
    }

    /// `self - other`, or `nil` when the result does not fit in `Int64` micro-dollars.
    /// The result may be negative.
    public func subtracting(_ other: Money) -> Money? {
        let (result, overflow) = micros.subtractingReportingOverflow(other.micros)
        return overflow ? nil : Money(micros: result)
    }

    /// `self × count` (for example a per-image price times a number of images), or `nil` when the
    /// result does not fit in `Int64` micro-dollars.
    public func multiplied(by count: Int) -> Money? {
        let (result, overflow) = micros.multipliedReportingOverflow(by: Int64(count))
        return overflow ? nil : Money(micros: result)
    }

    /// The sum; traps on overflow.
    public static func + (lhs: Money, rhs: Money) -> Money {
        Money(micros: lhs.micros + rhs.micros)
    }

    /// The difference (may be negative); traps on overflow.
    public static func - (lhs: Money, rhs: Money) -> Money {
        Money(micros: lhs.micros - rhs.micros)
    }

    /// The amount times a count; traps on overflow.
    public static func * (lhs: Money, rhs: Int) -> Money {
        Money(micros: lhs.micros * Int64(rhs))
    }

    /// The amount times a count; traps on overflow.
    public static func * (lhs: Int, rhs: Money) -> Money {
        rhs * lhs
    }

    /// Adds in place; traps on overflow.
    public static func += (lhs: inout Money, rhs: Money) {
        lhs = lhs + rhs
    }

    /// Subtracts in place; traps on overflow.
    public static func -= (lhs: inout Money, rhs: Money) {
        lhs = lhs - rhs
    }
}
