import Testing
@testable import Webhooks

@Suite("URLPolicy")
struct URLPolicyTests {
    static let strict = URLPolicy()

    static let refused: [String] = [
        "http://hooks.example.com/x",                       // http without allow_http
        "ftp://hooks.example.com/x",
        "hooks.example.com/x",                               // not absolute
        "https://user:pass@hooks.example.com/x",             // credentials
        "https://127.0.0.1/x", "https://127.1.2.3/x",        // loopback
        "https://localhost/x", "https://api.localhost/x",
        "https://2130706433/x",                              // decimal 127.0.0.1
        "https://0177.0.0.1/x", "https://0177.1/x",          // octal
        "https://0x7f.0.0.1/x", "https://0x7f000001/x",      // hex
        "https://10.0.0.5/x", "https://172.16.3.4/x", "https://172.31.255.255/x", "https://192.168.1.1/x",
        "https://100.64.0.1/x",                              // shared address space
        "https://169.254.169.254/latest/meta-data",          // link-local (cloud metadata)
        "https://224.0.0.1/x", "https://239.255.255.250/x",  // multicast
        "https://0.0.0.0/x", "https://0/x",                  // unspecified
        "https://255.255.255.255/x", "https://240.0.0.1/x",  // reserved
        "https://[::1]/x", "https://[::]/x",
        "https://[::ffff:127.0.0.1]/x", "https://[::ffff:7f00:1]/x", "https://[::ffff:10.0.0.1]/x",
        "https://[::127.0.0.1]/x",                           // IPv4-compatible
        "https://[64:ff9b::a9fe:a9fe]/x",                   // NAT64 of 169.254.169.254
        "https://[2002:7f00:1::]/x",                         // 6to4 of 127.0.0.1
        "https://[fc00::1]/x", "https://[fd12:3456::1]/x",   // unique local
        "https://[fe80::1]/x",                               // link-local
        "https://[ff02::1]/x",                               // multicast
        "https://[fe80::1%25eth0]/x",                        // zone id
        "https://256.1.1.1/x", "https://1.2.3.4.5/x",        // invalid numeric hosts
        "https://hooks.example.com:0/x", "https://hooks.example.com:70000/x", "https://hooks.example.com:abc/x",
        "https://exa mple.com/x", "https:///x", "https://bad_label-.example.com/x",
        "https://hooks.example.com/" + String(repeating: "a", count: 2048),
    ]

    @Test("refused forms", arguments: refused)
    func policy_RefusesEachForbiddenForm(url: String) {
        if case .success(let target) = Self.strict.check(url) { Issue.record("accepted \(url) as \(target)") }
    }

    static let allowed: [(String, String, Int, String)] = [
        ("https://hooks.example.com/generations?x=1", "hooks.example.com", 443, "/generations?x=1"),
        ("https://HOOKS.Example.com.:8443", "hooks.example.com", 8443, "/"),
        ("https://93.184.216.34/x#frag", "93.184.216.34", 443, "/x"),
        ("https://[2606:2800:220:1:248:1893:25c8:1946]/x", "2606:2800:220:1:248:1893:25c8:1946", 443, "/x"),
        ("https://8.8.8.8", "8.8.8.8", 443, "/"),
        ("https://172.32.0.1/x", "172.32.0.1", 443, "/x"),   // just outside 172.16/12
    ]

    @Test("allowed forms", arguments: allowed)
    func policy_AllowsPublicHTTPS(url: String, host: String, port: Int, path: String) throws {
        let target = try Self.strict.check(url).get()
        #expect(target.host == host && target.port == port && target.pathAndQuery == path)
    }

    @Test func policy_AllowHTTPAndPrivateNetworks() throws {
        #expect((try? URLPolicy(allowHTTP: true).check("http://hooks.example.com/x").get())?.port == 80)
        #expect((try? URLPolicy(allowHTTP: true).check("http://127.0.0.1:9000/x").get()) == nil)
        let open = URLPolicy(allowHTTP: true, allowPrivateNetworks: true)
        #expect((try? open.check("http://127.0.0.1:9000/x").get())?.literalAddress == .v4(0x7F00_0001))
        #expect((try? open.check("https://[::1]:9000/x").get()) != nil)
    }

    @Test func policy_AllowedHostsAreExemptFromThePrivateRuleOnly() {
        let policy = URLPolicy(allowHTTP: false, allowPrivateNetworks: false, allowedHosts: ["Hooks.Internal", "10.1.2.3"])
        #expect(policy.permits(.v4(0x0A01_0203), host: "hooks.internal"))
        #expect(!policy.permits(.v4(0x0A01_0203), host: "other.internal"))
        #expect((try? policy.check("https://10.1.2.3/x").get()) != nil)
        #expect((try? policy.check("https://10.1.2.4/x").get()) == nil)
        #expect((try? policy.check("http://10.1.2.3/x").get()) == nil)  // still https only
    }

    @Test func ipv4Parsing_MatchesInetAton() {
        #expect(IPAddress.parseIPv4Host("2130706433") == .address(.v4(0x7F00_0001)))
        #expect(IPAddress.parseIPv4Host("0x7f.1") == .address(.v4(0x7F00_0001)))
        #expect(IPAddress.parseIPv4Host("10.1") == .address(.v4(0x0A00_0001)))
        #expect(IPAddress.parseIPv4Host("1.2.3.4.") == .address(.v4(0x0102_0304)))
        #expect(IPAddress.parseIPv4Host("hooks.example.com") == .notAnAddress)
        #expect(IPAddress.parseIPv4Host("1.2.3.256") == .invalid)
        #expect(IPAddress.parseIPv4Host("09.1.1.1") == .invalid)  // 9 is not an octal digit
        #expect(IPAddress.v4(0x7F00_0001).description == "127.0.0.1")
    }
}
