import AsyncHTTPClient
import Testing
@testable import Webhooks

@Suite("Webhook client configuration")
struct WebhookClientConfigurationTests {
    // The pinned address reaches the client, a refused connection is not retried in a loop, and
    // no span is started per delivery (AsyncHTTPClient's default would use the global tracer).
    @Test func configuration_PinsTheAddressAndCarriesNoTracer() {
        let configuration = WebhookDeliverer.clientConfiguration(dnsOverride: ["hooks.example.com": "203.0.113.7"])
        #expect(configuration.dnsOverride == ["hooks.example.com": "203.0.113.7"])
        #expect(configuration.connectionPool.retryConnectionEstablishment == false)
        #expect(configuration.tracing.tracer == nil)
        #expect(HTTPClient.Configuration().tracing.tracer != nil)
    }
}
