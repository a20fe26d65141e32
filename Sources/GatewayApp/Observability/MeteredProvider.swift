import GatewayCore
import Providers

/// A provider adapter with every upstream call counted and timed (by provider, operation and
/// outcome) for `/metrics`, and its duration added to the request's access-log line.
struct MeteredProvider: ImageProvider {
    let inner: any ImageProvider
    let metrics: GatewayMetrics

    var name: String { inner.name }
    var canCancel: Bool { inner.canCancel }

    func capabilities(for upstreamModel: String) -> ModelCapabilities? { inner.capabilities(for: upstreamModel) }

    func providerJobID(inCallback body: [UInt8]) -> String? { inner.providerJobID(inCallback: body) }

    func submit(_ request: GenerationRequest, upstreamModel: String, callbackURL: String?) async throws(ProviderError) -> ProviderJobSnapshot {
        try await measured("submit") { () async throws(ProviderError) in
            try await inner.submit(request, upstreamModel: upstreamModel, callbackURL: callbackURL)
        }
    }

    func fetch(providerJobID: String, upstreamModel: String) async throws(ProviderError) -> ProviderJobSnapshot {
        try await measured("fetch") { () async throws(ProviderError) in
            try await inner.fetch(providerJobID: providerJobID, upstreamModel: upstreamModel)
        }
    }

    func cancel(providerJobID: String, upstreamModel: String) async throws(ProviderError) -> ProviderJobSnapshot {
        try await measured("cancel") { () async throws(ProviderError) in
            try await inner.cancel(providerJobID: providerJobID, upstreamModel: upstreamModel)
        }
    }

    private func measured(_ operation: String, _ call: () async throws(ProviderError) -> ProviderJobSnapshot) async throws(ProviderError) -> ProviderJobSnapshot {
        let start = ContinuousClock.now
        do {
            let snapshot = try await call()
            record(operation, outcome: "ok", since: start)
            return snapshot
        } catch {
            record(operation, outcome: error.kind.rawValue, since: start)
            throw error
        }
    }

    private func record(_ operation: String, outcome: String, since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        metrics.upstreamCall(provider: inner.name, operation: operation, outcome: outcome, duration: elapsed)
        RequestLog.current?.addUpstream(elapsed)
    }
}
