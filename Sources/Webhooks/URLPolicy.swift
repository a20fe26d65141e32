/// A webhook destination that passed the syntax and scheme rules.
public struct WebhookTarget: Sendable, Equatable {
    /// `http` or `https`.
    public var scheme: String
    /// The host, lowercased, without brackets or a trailing dot.
    public var host: String
    /// The port (default 443/80).
    public var port: Int
    /// Path and query (at least `/`).
    public var pathAndQuery: String
    /// The address when the host is an IP literal (in any spelling).
    public var literalAddress: IPAddress?
}

/// Why a webhook URL is refused (400 `invalid_webhook_url`).
public struct URLPolicyViolation: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
}

/// The webhook URL policy of API.md §5: `https` unless `allow_http`; a host that is (or resolves
/// to) a loopback, private, link-local, multicast, unspecified or reserved address is refused
/// unless `allow_private_networks` or the host is in `allowed_hosts`; at most 2,048 characters;
/// no credentials in the URL.
public struct URLPolicy: Sendable, Equatable {
    public static let maxLength = 2048

    public var allowHTTP: Bool
    public var allowPrivateNetworks: Bool
    /// Hostnames exempt from the private-network rule, lowercased.
    public var allowedHosts: Set<String>

    public init(allowHTTP: Bool = false, allowPrivateNetworks: Bool = false, allowedHosts: [String] = []) {
        self.allowHTTP = allowHTTP
        self.allowPrivateNetworks = allowPrivateNetworks
        self.allowedHosts = Set(allowedHosts.map { Self.normalizedHost($0) })
    }

    /// Syntax, scheme, length and — for IP literals and `localhost` — the address rules. A named
    /// host's resolved addresses are checked with `permits(_:host:)` (at submission and again at
    /// delivery, against the address actually connected to).
    public func check(_ url: String) -> Result<WebhookTarget, URLPolicyViolation> {
        func refuse(_ why: String) -> Result<WebhookTarget, URLPolicyViolation> { .failure(URLPolicyViolation(description: why)) }
        guard !url.isEmpty, url.utf8.count <= Self.maxLength else { return refuse("the URL must have 1 to \(Self.maxLength) characters") }
        guard url.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return refuse("the URL must be printable ASCII without spaces") }
        guard let schemeEnd = url.range(of: "://") else { return refuse("the URL must be absolute (https://host/path)") }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "https" || (scheme == "http" && allowHTTP) else {
            return refuse(scheme == "http" ? "webhook URLs must use https (webhooks.allow_http is off)" : "webhook URLs must use https")
        }
        var rest = url[schemeEnd.upperBound...]
        if let fragment = rest.firstIndex(of: "#") { rest = rest[..<fragment] }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var pathAndQuery = String(rest[authorityEnd...])
        if pathAndQuery.isEmpty || pathAndQuery.hasPrefix("?") { pathAndQuery = "/" + pathAndQuery }
        guard !authority.contains("@") else { return refuse("credentials in a webhook URL are not allowed") }

        var hostText: Substring, portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return refuse("invalid IPv6 host") }
            hostText = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return refuse("invalid host") }
                portText = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            hostText = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            hostText = authority
        }
        var port = scheme == "https" ? 443 : 80
        if let portText {
            guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy(\.isNumber), let value = Int(portText), (1...65535).contains(value) else {
                return refuse("invalid port")
            }
            port = value
        }
        let host = Self.normalizedHost(String(hostText))
        guard !host.isEmpty else { return refuse("the URL has no host") }

        var literal: IPAddress?
        if authority.hasPrefix("[") {
            guard let address = IPAddress.parseIPv6(host) else { return refuse("invalid IPv6 host") }
            literal = address
        } else {
            switch IPAddress.parseIPv4Host(host) {
            case .invalid: return refuse("invalid IPv4 host")
            case .address(let address): literal = address
            case .notAnAddress:
                guard Self.isHostname(host) else { return refuse("invalid host name") }
            }
        }
        let target = WebhookTarget(scheme: scheme, host: host, port: port, pathAndQuery: pathAndQuery, literalAddress: literal)
        if let literal, !permits(literal, host: host) {
            return refuse("webhook URLs may not point at \(literal.scope.rawValue) addresses (\(literal))")
        }
        if literal == nil, host == "localhost" || host.hasSuffix(".localhost"), !permits(.v4(0x7F00_0001), host: host) {
            return refuse("webhook URLs may not point at loopback addresses (localhost)")
        }
        return .success(target)
    }

    /// Whether a connection to `address` (for `host`) is allowed.
    public func permits(_ address: IPAddress, host: String) -> Bool {
        if address.scope == .global || allowPrivateNetworks { return true }
        return allowedHosts.contains(Self.normalizedHost(host))
    }

    static func normalizedHost(_ host: String) -> String {
        var lower = host.lowercased()
        while lower.hasSuffix("."), lower.count > 1 { lower.removeLast() }
        return lower
    }

    /// LDH labels of 1…63 characters, at most 253 in all.
    static func isHostname(_ host: String) -> Bool {
        guard host.utf8.count <= 253 else { return false }
        return host.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.utf8.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x5F }
        }
    }
}
