/// Why a request could not be parsed. Every parser error ends the connection after its answer.
public struct HTTPParserError: Error, Sendable, Hashable, CustomStringConvertible {
    enum Code: String, Sendable, Hashable {
        case requestLineTooLong = "uri_too_long"
        case headersTooLarge = "headers_too_large"
        case bodyTooLarge = "body_too_large"
        case malformed = "bad_request"
        case versionNotSupported = "http_version_not_supported"
        case unsupportedTransferCoding = "unsupported_transfer_coding"
        case expectationFailed = "expectation_failed"
    }

    let code: Code
    /// A short human explanation (no request bytes are echoed in it).
    public let detail: String

    /// Request line longer than the limit: 414.
    static func requestLineTooLong() -> Self { Self(code: .requestLineTooLong, detail: "request line is longer than the limit") }
    /// Header section over the byte or field-count limit: 431.
    static func headersTooLarge(_ detail: String) -> Self { Self(code: .headersTooLarge, detail: detail) }
    /// Body over the limit: 413.
    static func bodyTooLarge() -> Self { Self(code: .bodyTooLarge, detail: "request body is larger than the limit") }
    /// Malformed or ambiguous framing: 400.
    static func malformed(_ detail: String) -> Self { Self(code: .malformed, detail: detail) }
    /// An HTTP version other than 1.0 and 1.1: 505.
    static func versionNotSupported() -> Self { Self(code: .versionNotSupported, detail: "only HTTP/1.0 and HTTP/1.1 are supported") }
    /// A transfer coding other than chunked: 501 (RFC 9112 §6.1).
    static func unsupportedTransferCoding() -> Self { Self(code: .unsupportedTransferCoding, detail: "transfer codings other than chunked are not supported") }
    /// An `Expect` value other than `100-continue`: 417 (RFC 9110 §10.1.1).
    static func expectationFailed() -> Self { Self(code: .expectationFailed, detail: "only Expect: 100-continue is supported") }

    /// The HTTP status this error is answered with.
    public var status: Int {
        switch code {
        case .requestLineTooLong: return 414
        case .headersTooLarge: return 431
        case .bodyTooLarge: return 413
        case .malformed: return 400
        case .versionNotSupported: return 505
        case .unsupportedTransferCoding: return 501
        case .expectationFailed: return 417
        }
    }

    /// A stable, low-cardinality name usable as an API error code or metric label.
    public var name: String { code.rawValue }

    public var description: String { "\(status) \(code.rawValue): \(detail)" }
}
