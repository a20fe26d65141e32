import Crypto
import Foundation
import GatewayCore

/// Signs webhook bodies per Standard Webhooks (API.md §5): `webhook-signature: v1,<base64 HMAC-SHA256
/// over "{webhook-id}.{webhook-timestamp}.{body}">`, keyed with the base64-decoded part of a
/// `whsec_` secret.
public struct WebhookSigner: Sendable {
    /// Why a secret cannot sign.
    public struct InvalidSecret: Error, Sendable, Equatable, CustomStringConvertible {
        public let description: String
    }

    private let key: SymmetricKey

    /// A signer for `whsec_<base64>`.
    public init(secret: String) throws(InvalidSecret) {
        guard secret.hasPrefix("whsec_") else { throw InvalidSecret(description: "a webhook secret starts with whsec_") }
        guard let bytes = Data(base64Encoded: String(secret.dropFirst(6))), !bytes.isEmpty else {
            throw InvalidSecret(description: "a webhook secret is whsec_ followed by base64")
        }
        key = SymmetricKey(data: bytes)
    }

    /// The `webhook-signature` value for one delivery.
    public func signature(id: String, timestamp: Int64, body: [UInt8]) -> String {
        var signed = Array("\(id).\(timestamp).".utf8)
        signed.append(contentsOf: body)
        let mac = HMAC<SHA256>.authenticationCode(for: signed, using: key)
        return "v1," + Data(mac).base64EncodedString()
    }

    /// The three Standard Webhooks headers for one delivery.
    public func headers(id: String, timestamp: Int64, body: [UInt8]) -> [(name: String, value: String)] {
        [("webhook-id", id), ("webhook-timestamp", String(timestamp)), ("webhook-signature", signature(id: id, timestamp: timestamp, body: body))]
    }

    /// Whether a `webhook-signature` header (possibly several space-separated `v1,` entries)
    /// holds a valid signature; compared in constant time.
    public func verify(id: String, timestamp: Int64, body: [UInt8], signatureHeader: String) -> Bool {
        let expected = signature(id: id, timestamp: timestamp, body: body)
        var matched = false
        for candidate in signatureHeader.split(separator: " ") {
            matched = ConstantTime.equals(candidate.utf8, expected.utf8) || matched
        }
        return matched
    }
}
