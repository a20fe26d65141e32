/// `X-Request-Id` (API.md §2): echoed when the client sent a sane one, else generated.
enum RequestID {
    /// Longest client-supplied id we echo.
    static let maxLength = 128

    /// The client's id if it is 1…128 visible ASCII characters, else a new one.
    static func resolve(_ supplied: String?) -> String {
        if let supplied, !supplied.isEmpty, supplied.utf8.count <= maxLength,
           supplied.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) {
            return supplied
        }
        return generate()
    }

    /// `req_` and 24 random hex digits.
    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let high = generator.next() as UInt64, low = generator.next() as UInt32
        return "req_" + hex(high, width: 16) + hex(UInt64(low), width: 8)
    }

    private static func hex(_ value: UInt64, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: width - digits.count) + digits
    }
}
