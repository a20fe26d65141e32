import Crypto
import Testing
@testable import GatewayApp

@Suite("KeyRing tokens")
struct KeyRingTests {
    @Test(arguments: [
        ("Bearer kgw_abc", "kgw_abc"), ("bearer kgw_abc", "kgw_abc"), ("BEARER kgw_abc", "kgw_abc"), ("BeArEr    kgw_abc", "kgw_abc"),
        ("Bearer kgw_é€", "kgw_é€"),
    ])
    func bearerToken_TakesTheTokenAfterTheSchemeInAnyCase(header: String, token: String) {
        #expect(KeyRing.bearerToken(header) == token)
    }

    @Test(arguments: ["", "Bearer", "Bearer ", "Bearer    ", "Basic kgw_abc", "Bearerkgw_abc", "Bearer\tkgw", "Béarer kgw_abc", "xBearer kgw"])
    func bearerToken_RefusesOtherSchemesAndEmptyTokens(header: String) {
        #expect(KeyRing.bearerToken(header) == nil)
    }

    @Test func sha256Hex_IsTheLowercaseHexDigestOfTheUTF8() {
        for token in ["", "kgw_bench_0123456789abcdef0123456789abcdef", "é€🎨"] {
            let expected = SHA256.hash(data: Array(token.utf8)).map { byte in
                String(byte >> 4, radix: 16) + String(byte & 0x0F, radix: 16)
            }.joined()
            #expect(KeyRing.sha256Hex(token) == expected)
        }
        #expect(KeyRing.sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
