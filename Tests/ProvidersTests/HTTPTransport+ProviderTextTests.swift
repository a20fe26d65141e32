import GatewayCore
@testable import Providers
import Testing

@Suite struct ProviderTextTests {
    @Test func providerText_Messages() {
        #expect(ProviderText.message("  line one\nline\ttwo  ") == "line one line two")
        #expect(ProviderText.message(String(repeating: "é", count: 400)).count == ProviderText.maxMessageLength + 1)
        #expect(ProviderText.isContentPolicy("Prompt violates our Content Policy"))
        #expect(ProviderText.isContentPolicy("NSFW content detected"))
        #expect(!ProviderText.isContentPolicy("nsfw_check must be a boolean"))
        #expect(!ProviderText.isContentPolicy(nil))
        #expect(ProviderText.number(0.5) == .number("0.5"))
        #expect(ProviderText.number(-1.25) == .number("-1.25"))
        #expect(ProviderText.number(Double.nan) == .number("0"))
        #expect(ProviderText.code(.number("401")) == "401")
        #expect(ProviderText.code(.string("")) == nil)
    }
}
