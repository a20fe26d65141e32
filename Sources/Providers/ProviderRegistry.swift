import AsyncHTTPClient
import GatewayCore

/// Builds the adapter of every configured provider. Adding a provider = one folder under
/// `Sources/Providers/` and one line in ``make(_:client:)``.
public enum ProviderRegistry {
    /// One adapter per entry of `providers`, by configuration name, all sharing `client`.
    public static func makeProviders(_ configuration: GatewayConfiguration, client: HTTPClient) -> [String: any ImageProvider] {
        var providers: [String: any ImageProvider] = [:]
        for provider in configuration.providers {
            providers[provider.name] = make(provider, client: client)
        }
        return providers
    }

    /// The adapter for one configured provider, by its `kind`.
    public static func make(_ provider: GatewayConfiguration.Provider, client: HTTPClient) -> any ImageProvider {
        switch provider.kind {
        case .krea: return KreaProvider(name: provider.name, configuration: provider, client: client)
        case .evolink: return EvolinkProvider(name: provider.name, configuration: provider, client: client)
        }
    }
}
