import Testing
@testable import ProviderSimulators

@Suite("CallbackURLPolicy")
struct CallbackURLPolicyTests {
    @Test(arguments: [
        "http://hooks.example.com/x", "https://localhost/x", "https://api.localhost/x", "https://127.0.0.1/x",
        "https://10.0.0.1/x", "https://172.16.5.4/x", "https://172.31.255.255/x", "https://192.168.1.1/x",
        "https://169.254.169.254/latest", "https://100.64.0.1/x", "https://0.0.0.0/x", "https://[::1]/x",
        "https://[fd00::1]/x", "https://[fe80::1]/x", "https://[::ffff:127.0.0.1]/x", "ftp://example.com/x", "not a url",
    ])
    func policy_RefusesWhenEnforced(url: String) {
        #expect(CallbackURLPolicy.refusal(for: url, enforce: true) != nil)
    }

    @Test(arguments: ["https://hooks.example.com/x", "https://172.32.0.1/x", "https://8.8.8.8/cb?x=1", "https://[2001:db8::1]/x"])
    func policy_AcceptsPublicHTTPS(url: String) {
        #expect(CallbackURLPolicy.refusal(for: url, enforce: true) == nil)
    }

    @Test func policy_NotEnforcedStillChecksLengthAndShape() {
        #expect(CallbackURLPolicy.refusal(for: "http://127.0.0.1:8080/hook", enforce: false) == nil)
        #expect(CallbackURLPolicy.refusal(for: "https://example.com/" + String(repeating: "a", count: 2028), enforce: false) == nil)
        #expect(CallbackURLPolicy.refusal(for: "https://example.com/" + String(repeating: "a", count: 2029), enforce: false) != nil)
        #expect(CallbackURLPolicy.refusal(for: "ftp://example.com/x", enforce: false) != nil)
    }
}
