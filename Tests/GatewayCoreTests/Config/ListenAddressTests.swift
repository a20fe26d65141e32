import GatewayCore
import Testing

@Test(arguments: [
    ("0.0.0.0:8080", "0.0.0.0", UInt16(8080)),
    ("127.0.0.1:0", "127.0.0.1", 0),
    ("localhost:9000", "localhost", 9000),
    ("[::1]:8080", "::1", 8080),
    ("[::]:0", "::", 0),
    ("[fe80::1:2]:65535", "fe80::1:2", 65535),
    ("gateway.internal-1:443", "gateway.internal-1", 443),
])
func listenAddress_ParsesHostAndPort(text: String, host: String, port: UInt16) throws {
    let address = try #require(ListenAddress(parsing: text))
    #expect(address.host == host)
    #expect(address.port == port)
    #expect(address.description == text)
}

@Test(arguments: [
    "8080", ":8080", "localhost:", "localhost:65536", "localhost:-1", "localhost:+80",
    "localhost:80a", "localhost:080080", "::1:8080", "[::1]8080", "[::1]", "[::1]:", "[]:80",
    "[zz::1]:80", "[127.0.0.1]:80", "a b:80", "host/x:80", "", " localhost:80",
])
func listenAddress_RefusesMalformedAddresses(text: String) {
    #expect(ListenAddress(parsing: text) == nil)
}

@Test func listenAddress_KnowsIPv6() throws {
    #expect(try #require(ListenAddress(parsing: "[::1]:1")).isIPv6)
    #expect(try !#require(ListenAddress(parsing: "127.0.0.1:1")).isIPv6)
}
