#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 address, parsed the permissive way resolvers and browsers do, so that no
/// spelling of a private address slips past the URL policy.
public enum IPAddress: Sendable, Hashable, CustomStringConvertible {
    case v4(UInt32)
    /// 16 bytes, network order.
    case v6([UInt8])

    /// What an address is, for the webhook URL policy (API.md §5).
    public enum Scope: String, Sendable, Equatable {
        case global, loopback, `private`, linkLocal = "link-local", multicast, unspecified, reserved
    }

    /// The outcome of reading a URL host as an IPv4 address.
    public enum IPv4HostParse: Equatable {
        /// The host is a name, not an address.
        case notAnAddress
        /// The host is numeric but not a valid address (refuse the URL).
        case invalid
        case address(IPAddress)
    }

    /// Reads a host as IPv4 the way `inet_aton` and the WHATWG URL parser do: one to four
    /// dot-separated parts, each decimal, octal (leading `0`) or hex (`0x`), the last part filling
    /// the remaining bytes (`2130706433`, `0177.1`, `0x7f.0.0.1` are all 127.0.0.1).
    public static func parseIPv4Host(_ host: String) -> IPv4HostParse {
        var parts = host.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count > 1, parts.last?.isEmpty == true { parts.removeLast() }
        guard let last = parts.last, Self.numericPart(last) != nil || Self.looksNumeric(last) else { return .notAnAddress }
        guard (1...4).contains(parts.count) else { return .invalid }
        var values: [UInt64] = []
        for part in parts {
            guard let value = Self.numericPart(part) else { return .invalid }
            values.append(value)
        }
        for value in values.dropLast() where value > 255 { return .invalid }
        let remainingBits = UInt64(8 * (5 - parts.count))
        guard values.last! < (1 << remainingBits) else { return .invalid }
        var address: UInt64 = 0
        for (index, value) in values.dropLast().enumerated() { address |= value << UInt64(24 - 8 * index) }
        address |= values.last!
        return .address(.v4(UInt32(address)))
    }

    private static func looksNumeric(_ part: Substring) -> Bool {
        guard let first = part.first else { return false }
        return first.isASCII && first.isNumber
    }

    private static func numericPart(_ part: Substring) -> UInt64? {
        let lower = part.lowercased()
        if lower.isEmpty { return nil }
        if lower.hasPrefix("0x") {
            let digits = lower.dropFirst(2)
            return digits.isEmpty ? 0 : (digits.count <= 8 ? UInt64(digits, radix: 16) : nil)
        }
        if lower.count > 1, lower.hasPrefix("0") {
            return lower.count <= 12 ? UInt64(lower.dropFirst(), radix: 8) : nil
        }
        return lower.count <= 10 ? UInt64(lower, radix: 10) : nil
    }

    /// Reads an IPv6 literal (without brackets; zone ids are refused).
    public static func parseIPv6(_ text: String) -> IPAddress? {
        guard !text.contains("%") else { return nil }
        var raw = in6_addr()
        guard inet_pton(AF_INET6, text, &raw) == 1 else { return nil }
        return .v6(withUnsafeBytes(of: raw) { Array($0) })
    }

    /// The scope of this address; IPv6 forms that embed an IPv4 address (mapped, compatible,
    /// NAT64, 6to4) take the embedded address's scope.
    public var scope: Scope {
        switch self {
        case .v4(let value): return Self.scope(ofV4: value)
        case .v6(let bytes): return Self.scope(ofV6: bytes)
        }
    }

    static func scope(ofV4 address: UInt32) -> Scope {
        func inRange(_ base: UInt32, _ prefix: UInt32) -> Bool {
            let mask: UInt32 = prefix == 0 ? 0 : ~UInt32(0) << (32 - prefix)
            return address & mask == base & mask
        }
        if inRange(0x0000_0000, 8) { return address == 0 ? .unspecified : .reserved }  // 0.0.0.0/8
        if inRange(0x7F00_0000, 8) { return .loopback }                                  // 127/8
        if inRange(0x0A00_0000, 8) || inRange(0xAC10_0000, 12) || inRange(0xC0A8_0000, 16) { return .private }
        if inRange(0x6440_0000, 10) { return .private }                                   // 100.64/10 shared (CGNAT)
        if inRange(0xA9FE_0000, 16) { return .linkLocal }                                 // 169.254/16 (cloud metadata)
        if inRange(0xE000_0000, 4) { return .multicast }                                  // 224/4
        if inRange(0xF000_0000, 4) { return .reserved }                                   // 240/4 and broadcast
        if inRange(0xC000_0000, 24) || inRange(0xC612_0000, 15) { return .reserved }      // 192.0.0/24, 198.18/15
        return .global
    }

    static func scope(ofV6 bytes: [UInt8]) -> Scope {
        let v4 = UInt32(bytes[12]) << 24 | UInt32(bytes[13]) << 16 | UInt32(bytes[14]) << 8 | UInt32(bytes[15])
        if bytes.allSatisfy({ $0 == 0 }) { return .unspecified }
        if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return .loopback }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF { return scope(ofV4: v4) }  // ::ffff:a.b.c.d
        if bytes[0..<12].allSatisfy({ $0 == 0 }) { return scope(ofV4: v4) }                                          // ::a.b.c.d
        if bytes[0] == 0x00, bytes[1] == 0x64, bytes[2] == 0xFF, bytes[3] == 0x9B, bytes[4..<12].allSatisfy({ $0 == 0 }) {
            return scope(ofV4: v4)                                                                                    // 64:ff9b::/96
        }
        if bytes[0] == 0x20, bytes[1] == 0x02 {                                                                       // 2002::/16 6to4
            return scope(ofV4: UInt32(bytes[2]) << 24 | UInt32(bytes[3]) << 16 | UInt32(bytes[4]) << 8 | UInt32(bytes[5]))
        }
        if bytes[0] & 0xFE == 0xFC { return .private }                                                                // fc00::/7
        if bytes[0] == 0xFE, bytes[1] & 0xC0 == 0x80 { return .linkLocal }                                           // fe80::/10
        if bytes[0] == 0xFE, bytes[1] & 0xC0 == 0xC0 { return .private }                                             // fec0::/10
        if bytes[0] == 0xFF { return .multicast }                                                                     // ff00::/8
        if bytes[0] == 0x01, bytes[1] == 0x00, bytes[2..<8].allSatisfy({ $0 == 0 }) { return .reserved }             // 100::/64
        return .global
    }

    public var description: String {
        switch self {
        case .v4(let value):
            return "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
        case .v6(let bytes):
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            _ = bytes.withUnsafeBytes { inet_ntop(AF_INET6, $0.baseAddress, &buffer, socklen_t(buffer.count)) }
            return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }
}
