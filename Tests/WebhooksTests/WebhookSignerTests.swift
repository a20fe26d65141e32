import Testing
@testable import Webhooks

@Suite("WebhookSigner")
struct WebhookSignerTests {
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    static let body = Array(#"{"type":"generation.completed","data":{"id":"gen_1"}}"#.utf8)

    @Test func signature_MatchesAnIndependentHMAC() throws {
        // Computed with Python's hmac/hashlib/base64 over "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W.1674087231.{body}".
        let signer = try WebhookSigner(secret: Self.secret)
        #expect(signer.signature(id: "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", timestamp: 1_674_087_231, body: Self.body)
                == "v1,KEkilE4+dNQNJhATF9cnJx0+jg3yKS9KffY78zDyo3Q=")
    }

    @Test func verify_FailsWhenOneByteChanges() throws {
        let signer = try WebhookSigner(secret: Self.secret)
        let header = signer.signature(id: "msg_1", timestamp: 100, body: Self.body)
        #expect(signer.verify(id: "msg_1", timestamp: 100, body: Self.body, signatureHeader: header))
        #expect(signer.verify(id: "msg_1", timestamp: 100, body: Self.body, signatureHeader: "v1,bogus " + header))
        var tampered = Self.body
        tampered[10] ^= 0x01
        #expect(!signer.verify(id: "msg_1", timestamp: 100, body: tampered, signatureHeader: header))
        #expect(!signer.verify(id: "msg_2", timestamp: 100, body: Self.body, signatureHeader: header))
        #expect(!signer.verify(id: "msg_1", timestamp: 101, body: Self.body, signatureHeader: header))
    }

    @Test func headers_AreTheThreeStandardOnes() throws {
        let headers = try WebhookSigner(secret: Self.secret).headers(id: "msg_1", timestamp: 100, body: Self.body)
        #expect(headers.map(\.name) == ["webhook-id", "webhook-timestamp", "webhook-signature"])
        #expect(headers[1].value == "100" && headers[2].value.hasPrefix("v1,"))
    }

    @Test func init_RefusesMalformedSecrets() {
        #expect(throws: WebhookSigner.InvalidSecret.self) { try WebhookSigner(secret: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") }
        #expect(throws: WebhookSigner.InvalidSecret.self) { try WebhookSigner(secret: "whsec_not base64!") }
        #expect(throws: WebhookSigner.InvalidSecret.self) { try WebhookSigner(secret: "whsec_") }
    }
}
