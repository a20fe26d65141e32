import Synchronization

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

    /// A random per-process prefix: ids from two processes do not collide.
    private static let prefix: String = {
        var generator = SystemRandomNumberGenerator()
        return "req_" + hex((generator.next() as UInt64) & 0xFFFF_FFFF_FFFF, width: 12)
    }()
    private static let counter = Atomic<UInt64>(0)

    /// `req_`, 12 random hex digits fixed per process, and a 12-digit counter: unique without a
    /// system call per request (ids are identifiers, not secrets).
    static func generate() -> String {
        let next = counter.wrappingAdd(1, ordering: .relaxed).newValue
        return prefix + hex(next & 0xFFFF_FFFF_FFFF, width: 12)
    }

    private static func hex(_ value: UInt64, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: width - digits.count) + digits
    }
}
