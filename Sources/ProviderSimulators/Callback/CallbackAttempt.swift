import GatewayCore

/// One POST of a callback, as the simulator made it.
public struct CallbackAttempt: Sendable {
    /// Where it was sent.
    public let url: String
    /// The job (Krea `job_id`, Evolink task `id`).
    public let jobID: String
    /// Which copy this was, from 1 to `callbackCopies`.
    public let copy: Int
    /// The body sent.
    public let body: [UInt8]
    /// The receiver's status code, or nil when no answer came.
    public let status: Int?
    /// Why no answer came (`timeout`, `connect_failed: errno 111`, `unsupported_url: …`).
    public let error: String?

    /// Whether the receiver answered 2xx.
    public var succeeded: Bool { status.map { (200..<300).contains($0) } ?? false }

    /// The body as UTF-8 text.
    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    var jsonValue: JSONValue {
        .object([
            ("url", .string(url)),
            ("job_id", .string(jobID)),
            ("copy", .int(copy)),
            ("status", status.map { .int($0) } ?? .null),
            ("error", error.map { .string($0) } ?? .null),
            ("body", .string(bodyText)),
        ])
    }
}
