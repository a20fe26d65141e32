import AsyncHTTPClient
import GatewayCore
import NIOCore
import NIOPosix

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

    /// The shared client for provider calls: ``clientConfiguration`` over ``eventLoopGroup``.
    public static func makeClient() -> HTTPClient {
        HTTPClient(eventLoopGroupProvider: .shared(eventLoopGroup), configuration: clientConfiguration)
    }

    /// The event loops provider calls run on: half the cores (at least one), for the life of the
    /// process; the HTTP server's loops (one per core) read requests, run the handlers and
    /// answer. Not one loop per core (NIO's singleton), and the handlers do not run on the
    /// provider loop to save the hop back: either way the gateway submits fewer requests per
    /// second (measured: Benchmarks/README.md, "Submission").
    public static let eventLoopGroup = MultiThreadedEventLoopGroup(numberOfThreads: max(1, NIOCore.System.coreCount / 2))

    /// The configuration the shared `HTTPClient` should be created with for provider calls:
    ///
    /// - `connectionPool.retryConnectionEstablishment = false`: a refused connection fails at
    ///   once as `connectionFailed` (so an alias can fall back) instead of being retried with
    ///   backoff until the provider's `timeout_s` passes;
    /// - `redirectConfiguration = .disallow`: provider APIs do not redirect; a 3xx is reported as
    ///   `invalidResponse` rather than a `POST` being replayed somewhere else;
    /// - `tracing.tracer = nil`: the gateway bootstraps no tracer, and with the default (the global,
    ///   a no-op one) AsyncHTTPClient still starts, annotates and ends a span on every call.
    ///
    /// Everything else is AsyncHTTPClient's default (connect timeout 10 s, pooled keep-alive).
    public static var clientConfiguration: HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.redirectConfiguration = .disallow
        configuration.tracing.tracer = nil
        // The default (8 keep-alive connections per host) queues concurrent submissions behind
        // each other, and the gateway then submits far below the provider's rate (measured:
        // Benchmarks/README.md, "Submission"). Providers take many concurrent requests.
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 256
        return configuration
    }

    /// The adapter for one configured provider, by its `kind`.
    public static func make(_ provider: GatewayConfiguration.Provider, client: HTTPClient) -> any ImageProvider {
        switch provider.kind {
        case .krea: return KreaProvider(name: provider.name, configuration: provider, client: client)
        case .evolink: return EvolinkProvider(name: provider.name, configuration: provider, client: client)
        }
    }
}
