/// Comparison of secrets (keys, tokens, signatures) whose time does not depend on where the
/// inputs first differ (API.md §1: comparisons are constant-time).
public enum ConstantTime {
    /// Whether the two byte strings are equal; the time depends only on the longer length.
    public static func equals(_ lhs: some Collection<UInt8>, _ rhs: some Collection<UInt8>) -> Bool {
        let a = Array(lhs), b = Array(rhs)
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count) | UInt8(truncatingIfNeeded: (a.count ^ b.count) >> 8)
        for index in 0..<max(a.count, b.count) {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0
    }

    /// Whether the two strings' UTF-8 bytes are equal.
    public static func equals(_ lhs: String, _ rhs: String) -> Bool { equals(lhs.utf8, rhs.utf8) }
}
