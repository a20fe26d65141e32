import Crypto
import Foundation
import Testing
@testable import Webhooks

// The Swift receiver example of the README ("Verifying a webhook"), verbatim, so that it compiles
// and is checked against our signer.
func verify(body: Data, id: String, timestamp: String, signatureHeader: String, secret: String) -> Bool {
    guard secret.hasPrefix("whsec_"), let key = Data(base64Encoded: String(secret.dropFirst(6))),
          let seconds = Int64(timestamp), abs(Int64(Date().timeIntervalSince1970) - seconds) < 300 else { return false }
    let signed = Data("\(id).\(timestamp).".utf8) + body
    let expected = "v1," + Data(HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: key))).base64EncodedString()
    // Several signatures may be sent, space-separated; compare without early exit.
    return signatureHeader.split(separator: " ").contains { candidate in
        let a = Array(candidate.utf8), b = Array(expected.utf8)
        return a.count == b.count && zip(a, b).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

@Suite("README verification example")
struct ReadmeVerificationExampleTests {
    @Test func readmeExample_AcceptsOurSignatureAndRefusesTampering() throws {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        let body = Array(#"{"type":"generation.completed","data":{"id":"gen_1"}}"#.utf8)
        let now = Int64(Date().timeIntervalSince1970)
        let header = try WebhookSigner(secret: secret).signature(id: "msg_gen_1", timestamp: now, body: body)
        #expect(verify(body: Data(body), id: "msg_gen_1", timestamp: String(now), signatureHeader: header, secret: secret))
        var tampered = body
        tampered[3] ^= 1
        #expect(!verify(body: Data(tampered), id: "msg_gen_1", timestamp: String(now), signatureHeader: header, secret: secret))
        // Stale: older than five minutes.
        let old = now - 600
        let oldHeader = try WebhookSigner(secret: secret).signature(id: "msg_gen_1", timestamp: old, body: body)
        #expect(!verify(body: Data(body), id: "msg_gen_1", timestamp: String(old), signatureHeader: oldHeader, secret: secret))
    }
}
