import Foundation
import GatewayCore
import HTTPServer

/// One request as a simulator received it (control requests under `/__sim/` are not recorded).
public struct RecordedRequest: Sendable {
    /// The method token (`POST`, `GET`, `DELETE`).
    public let method: String
    /// The request target with its query, exactly as received.
    public let path: String
    /// The header fields in the order received.
    public let headers: HTTPHeaders
    /// The body bytes exactly as received (de-chunked).
    public let body: [UInt8]

    /// Creates a record.
    public init(method: String, path: String, headers: HTTPHeaders, body: [UInt8]) {
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
    }

    /// The body as UTF-8 text (invalid bytes replaced).
    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// The body parsed as a JSON object, or nil when it is not one.
    public var json: [String: Any]? {
        guard !body.isEmpty else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
    }

    /// The record as JSON for `GET /__sim/received`: method, path, headers as `[name, value]`
    /// pairs, and the body as UTF-8 text.
    var jsonValue: JSONValue {
        .object([
            ("method", .string(method)),
            ("path", .string(path)),
            ("headers", .array(headers.map { .array([.string($0.name), .string($0.value)]) })),
            ("body", .string(bodyText)),
        ])
    }
}
