import Foundation

/// Evolink's rule for `callback_url` (PROVIDERS.md §Evolink): HTTPS only, at most 2048
/// characters, no private or loopback host.
enum CallbackURLPolicy {
    static let maxLength = 2048

    /// Why the URL is refused, or nil when it is acceptable. With `enforce` false only the
    /// length and the shape (`http(s)://host…`) are checked, so tests can call back on loopback.
    static func refusal(for url: String, enforce: Bool) -> String? {
        guard url.utf8.count <= maxLength else { return "callback_url must be at most \(maxLength) characters" }
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              let host = components.host, !host.isEmpty
        else { return "callback_url must be an absolute URL" }
        guard enforce else {
            return scheme == "http" || scheme == "https" ? nil : "callback_url must be an http(s) URL"
        }
        guard scheme == "https" else { return "callback_url must use https" }
        guard !isPrivateOrLoopback(host: host) else { return "callback_url must not point to a private or loopback host" }
        return nil
    }

    /// Loopback, private, link-local, carrier-grade NAT, unspecified and `localhost` names.
    static func isPrivateOrLoopback(host raw: String) -> Bool {
        var host = raw.lowercased()
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.hasSuffix(".") { host = String(host.dropLast()) }
        if host == "localhost" || host.hasSuffix(".localhost") || host.hasSuffix(".local") || host.hasSuffix(".internal") { return true }
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 {
            let value = UInt32(bigEndian: v4.s_addr)
            let a = value >> 24, b = (value >> 16) & 0xFF
            return a == 0 || a == 10 || a == 127 || (a == 169 && b == 254) || (a == 172 && (16...31).contains(b))
                || (a == 192 && b == 168) || (a == 100 && (64...127).contains(b)) || a >= 224
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 {
            let bytes = withUnsafeBytes(of: v6) { Array($0) }
            let isUnspecifiedOrLoopback = bytes[0..<15].allSatisfy { $0 == 0 } && bytes[15] <= 1
            let isUniqueLocal = bytes[0] & 0xFE == 0xFC
            let isLinkLocal = bytes[0] == 0xFE && bytes[1] & 0xC0 == 0x80
            let isMapped = bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF
            if isMapped { return isPrivateOrLoopback(host: bytes[12..<16].map(String.init).joined(separator: ".")) }
            return isUnspecifiedOrLoopback || isUniqueLocal || isLinkLocal || bytes[0] == 0xFF
        }
        return false
    }
}
