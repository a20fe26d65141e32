/// Where the gateway listens: `server.listen` split into host and port.
///
/// Accepted forms: `0.0.0.0:8080`, `127.0.0.1:0`, `localhost:9000`, `[::1]:8080`, `[::]:0`.
/// An IPv6 host must be in brackets; port 0 asks the system for a free port.
public struct ListenAddress: Sendable, Hashable, CustomStringConvertible {
    /// The host to bind: an IPv4 address, a hostname, or an IPv6 address without brackets (`::1`).
    public var host: String
    /// The TCP port, 0…65535; 0 picks a free port.
    public var port: UInt16

    /// An address from its parts (no validation).
    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` or `[ipv6]:port`; `nil` when the text is not of that form, the host is
    /// empty or has characters no address or hostname has, or the port is not 0…65535.
    public init?(parsing text: String) {
        let hostPart: Substring
        let portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            hostPart = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            portPart = rest.dropFirst()
            guard hostPart.contains(":"),
                hostPart.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." })
            else { return nil }
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
            // A bare IPv6 address would be ambiguous (`::1:8080`): brackets are required.
            guard !hostPart.contains(":"),
                hostPart.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") })
            else { return nil }
        }
        guard !hostPart.isEmpty, !portPart.isEmpty, portPart.count <= 5,
            portPart.allSatisfy({ $0.isASCII && $0.isNumber }),
            let port = UInt16(portPart)
        else { return nil }
        self.init(host: String(hostPart), port: port)
    }

    /// Whether ``host`` is an IPv6 address.
    public var isIPv6: Bool { host.contains(":") }

    /// `host:port`, with brackets around an IPv6 host (`[::1]:8080`).
    public var description: String {
        isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
