import GatewayCore
import Testing

@Test func secret_NeverPrintsItsValue() {
    let secret = Secret("hunter2-PLAINTEXT")
    var dumped = ""
    dump(secret, to: &dumped)
    let renderings = [
        secret.description, secret.debugDescription, "\(secret)", String(describing: secret),
        String(reflecting: secret), dumped, String(describing: [secret]),
        String(describing: Optional(secret)),
    ]
    for text in renderings {
        #expect(!text.contains("hunter2"), "\(text)")
        #expect(text.contains("<redacted>"), "\(text)")
    }
    #expect(Mirror(reflecting: secret).children.isEmpty)
}

@Test func secret_ValueReadsThePlaintext() {
    #expect(Secret("abc").value == "abc")
    #expect(Secret("").isEmpty)
    #expect(Secret("a") != Secret("b"))
}

/// A struct holding a secret prints `<redacted>` in its place (the default struct printing).
@Test func secret_IsRedactedInsideOtherValues() {
    struct Holder { var name = "n"; var token = Secret("tok-PLAINTEXT") }
    #expect(!String(describing: Holder()).contains("PLAINTEXT"))
    #expect(!String(reflecting: Holder()).contains("PLAINTEXT"))
}
