/// An HTTP protocol version (`HTTP/1.0`, `HTTP/1.1`).
public struct HTTPVersion: Sendable, Hashable, CustomStringConvertible {
    /// The major version.
    public let major: Int
    /// The minor version.
    public let minor: Int

    /// HTTP/1.0
    public static let http1_0 = HTTPVersion(major: 1, minor: 0)
    /// HTTP/1.1
    public static let http1_1 = HTTPVersion(major: 1, minor: 1)

    public var description: String { "HTTP/\(major).\(minor)" }
}

/// How a request's body is delimited (RFC 9112 §6).
public enum HTTPBodyFraming: Sendable, Equatable {
    /// No body.
    case none
    /// `Content-Length: n`.
    case length(Int)
    /// `Transfer-Encoding: chunked`.
    case chunked
}

/// A parsed request line and header section.
public struct HTTPRequestHead: Sendable, Equatable {
    /// The method token, case-sensitive (`GET`, `POST`, …).
    public var method: String
    /// The request target exactly as received (origin form, absolute form, or `*`).
    public var target: String
    /// The protocol version.
    public var version: HTTPVersion
    /// The header fields, repeated ones kept.
    public var headers: HTTPHeaders
    /// How the body is framed.
    public var framing: HTTPBodyFraming
    /// Whether the connection may stay open after this exchange (RFC 9112 §9.3).
    public var keepAlive: Bool
    /// Whether the client sent `Expect: 100-continue` and waits before sending its body.
    public var expectsContinue: Bool

    /// A head, as the parser makes them (public for handler tests).
    public init(method: String, target: String, version: HTTPVersion, headers: HTTPHeaders,
                framing: HTTPBodyFraming, keepAlive: Bool, expectsContinue: Bool) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.framing = framing
        self.keepAlive = keepAlive
        self.expectsContinue = expectsContinue
    }
}

/// A complete request handed to a handler.
public struct HTTPRequest: Sendable {
    /// The request line and headers.
    public var head: HTTPRequestHead
    /// The whole body (already de-chunked).
    public var body: [UInt8]
    /// Trailer fields of a chunked body.
    public var trailers: HTTPHeaders
    /// Path parameters filled in by the router (`{id}` → value).
    public var pathParameters: [String: String] = [:]
    /// The peer's address, when known.
    public var remoteAddress: String?

    /// Creates a request.
    public init(head: HTTPRequestHead, body: [UInt8] = [], trailers: HTTPHeaders = HTTPHeaders(), remoteAddress: String? = nil) {
        self.head = head
        self.body = body
        self.trailers = trailers
        self.remoteAddress = remoteAddress
    }

    /// The method token.
    public var method: String { head.method }
    /// The header fields.
    public var headers: HTTPHeaders { head.headers }

    /// The path component of the target, percent-encoding untouched.
    public var path: Substring {
        // Searched as UTF-8 bytes: the target is ASCII (the parser checks it), and byte searches
        // skip grapheme breaking on every request.
        var target = Substring(head.target)
        // RFC 9112 §3.2.2: a server MUST accept the absolute form; keep only its path.
        if let first = target.utf8.first, first != UInt8(ascii: "/"), first != UInt8(ascii: "*"),
           let colon = target.utf8.firstIndex(of: UInt8(ascii: ":")) {
            let afterAuthority = target[colon...].drop { $0 == ":" || $0 == "/" }
            target = afterAuthority.utf8.firstIndex(of: UInt8(ascii: "/")).map { afterAuthority[$0...] } ?? "/"
        }
        if let query = target.utf8.firstIndex(of: UInt8(ascii: "?")) { return target[..<query] }
        return target
    }

    /// The raw query string after `?`, if any.
    public var query: Substring? {
        guard let mark = head.target.utf8.firstIndex(of: UInt8(ascii: "?")) else { return nil }
        return head.target[head.target.utf8.index(after: mark)...]
    }

    /// The query parameters, percent-decoded (`+` is a space); a repeated name keeps its first value.
    public var queryParameters: [String: String] {
        guard let query else { return [:] }
        var result: [String: String] = [:]
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = PercentDecoding.decode(parts[0], plusIsSpace: true)
            let value = parts.count > 1 ? PercentDecoding.decode(parts[1], plusIsSpace: true) : ""
            if let name, let value, result[name] == nil { result[name] = value }
        }
        return result
    }
}

/// Percent-decoding for paths and query strings (RFC 3986 §2.1).
enum PercentDecoding {
    /// Decodes `%XX` escapes; returns `nil` on a malformed escape or bytes that are not UTF-8.
    static func decode(_ text: Substring, plusIsSpace: Bool) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
                bytes.append(high << 4 | low)
            } else if plusIsSpace && byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
