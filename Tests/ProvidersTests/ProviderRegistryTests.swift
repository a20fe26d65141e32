import AsyncHTTPClient
import GatewayCore
@testable import Providers
import Testing

@Suite struct ProviderRegistryTests {
    @Test func makeProviders_OneAdapterPerConfiguredProvider() async throws {
        let configuration = GatewayConfiguration(
            admin: .init(masterKey: "master"),
            providers: [
                providerConfiguration(.krea, baseURL: "https://api.krea.ai"),
                GatewayConfiguration.Provider(name: "evolink-eu", kind: .evolink, baseURL: "https://api.evolink.ai", apiKey: "k"),
            ],
            models: [])
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let providers = ProviderRegistry.makeProviders(configuration, client: client)
        #expect(providers.keys.sorted() == ["evolink-eu", "krea"])
        #expect(providers["krea"] is KreaProvider)
        #expect(providers["krea"]?.canCancel == true)
        #expect(providers["evolink-eu"] is EvolinkProvider)
        #expect(providers["evolink-eu"]?.name == "evolink-eu")
        #expect(providers["evolink-eu"]?.canCancel == false)
        #expect(providers["evolink-eu"]?.capabilities(for: "krea-2-turbo") != nil)
        #expect(providers["krea"]?.capabilities(for: "krea-2-turbo") == nil)
        try await client.shutdown()
    }

    // Left at AsyncHTTPClient's default, the client starts, annotates and ends a span on every
    // call with the global tracer, a no-op one since the gateway bootstraps none: work on the
    // provider loop for nothing.
    @Test func clientConfiguration_CarriesNoTracer() {
        #expect(HTTPClient.Configuration().tracing.tracer != nil)
        #expect(ProviderRegistry.clientConfiguration.tracing.tracer == nil)
    }
}
