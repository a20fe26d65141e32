import Testing
@testable import GatewayCore

@Suite("ConstantTime")
struct ConstantTimeTests {
    @Test func equals_ComparesWholeContentsAndLengths() {
        #expect(ConstantTime.equals("kgw_secret", "kgw_secret"))
        #expect(!ConstantTime.equals("kgw_secret", "kgw_secreT"))
        #expect(!ConstantTime.equals("kgw_secret", "kgw_secre"))
        #expect(!ConstantTime.equals("", "a"))
        #expect(ConstantTime.equals("", ""))
        // Lengths that differ by a multiple of 256 are still unequal.
        #expect(!ConstantTime.equals(String(repeating: "a", count: 256), ""))
    }
}
