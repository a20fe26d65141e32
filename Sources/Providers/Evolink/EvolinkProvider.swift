import AsyncHTTPClient
import GatewayCore

/// The adapter for Evolink's API (`kind: evolink`, PROVIDERS.md "Evolink"): Krea 2 Turbo through
/// `POST /v1/images/generations`, tasks read with `GET /v1/tasks/{id}`, callbacks requested with
/// `callback_url`. Evolink has no cancel endpoint.
///
/// Every call goes through the shared `HTTPClient` with the provider's `timeout_s` as deadline;
/// translation lives in ``EvolinkWire`` (pure, tested against fixtures).
public struct EvolinkProvider: ImageProvider {
    /// The provider's name in the configuration.
    public let name: String
    let transport: HTTPTransport

    /// An adapter for the configured provider `name`, calling through the shared `client`.
    public init(name: String, configuration: GatewayConfiguration.Provider, client: HTTPClient) {
        self.name = name
        self.transport = HTTPTransport(providerName: name, configuration: configuration, client: client)
    }

    /// Evolink cannot cancel (`task_info.can_cancel` is always false).
    public var canCancel: Bool { false }

    /// `krea-2-turbo`; `nil` for any other name.
    public func capabilities(for upstreamModel: String) -> ModelCapabilities? {
        EvolinkModels.capabilities(for: upstreamModel)
    }

    /// `POST /v1/images/generations`; Evolink answers 200 with the task (`pending`).
    public func submit(_ request: GenerationRequest, upstreamModel: String, callbackURL: String?) async throws(ProviderError) -> ProviderJobSnapshot {
        let body = EvolinkWire.requestBody(request, upstreamModel: upstreamModel, callbackURL: callbackURL)
        let response = try await transport.send(.POST, path: EvolinkWire.generationsPath, jsonBody: body.serialized)
        return try task(in: response, expecting: nil)
    }

    /// `GET /v1/tasks/{id}`.
    public func fetch(providerJobID: String, upstreamModel: String) async throws(ProviderError) -> ProviderJobSnapshot {
        guard let path = EvolinkWire.taskPath(taskID: providerJobID) else {
            throw ProviderError(kind: .notFound, message: "evolink: not a valid task id")
        }
        let response = try await transport.send(.GET, path: path)
        return try task(in: response, expecting: providerJobID)
    }

    /// Always `notCancellable`, without calling Evolink.
    public func cancel(providerJobID: String, upstreamModel: String) async throws(ProviderError) -> ProviderJobSnapshot {
        throw ProviderError(kind: .notCancellable, message: "evolink: tasks cannot be cancelled")
    }

    /// Evolink's callback is the task-query body: its `id`.
    public func providerJobID(inCallback body: [UInt8]) -> String? {
        EvolinkWire.taskID(inCallback: body)
    }

    /// The task in a 2xx answer, or the mapped error. A task with another id than the one asked
    /// for is `invalidResponse`.
    private func task(in response: UpstreamResponse, expecting id: String?) throws(ProviderError) -> ProviderJobSnapshot {
        guard response.isSuccess else {
            throw transport.redacting(EvolinkWire.error(status: response.status, headers: response.headers, body: response.body))
        }
        do throws(ProviderError) {
            let snapshot = try EvolinkWire.snapshot(from: response.body)
            if let id, snapshot.providerJobID != id {
                throw EvolinkWire.invalid("the answer is about another task than the one asked for")
            }
            return transport.redacting(snapshot)
        } catch {
            var error = transport.redacting(error)
            error.httpStatus = response.status
            throw error
        }
    }
}
