import AsyncHTTPClient
import GatewayCore

/// The adapter for Krea's API (`kind: krea`, PROVIDERS.md "Krea"): the model is the path
/// (`POST /generate/image/krea/krea-2/medium`), jobs are read with `GET /jobs/{id}` and cancelled
/// with `DELETE /jobs/{id}`, callbacks are requested with `X-Webhook-URL`.
///
/// Every call goes through the shared `HTTPClient` with the provider's `timeout_s` as deadline;
/// translation lives in ``KreaWire`` (pure, tested against fixtures).
public struct KreaProvider: ImageProvider {
    /// The provider's name in the configuration.
    public let name: String
    let transport: HTTPTransport

    /// An adapter for the configured provider `name`, calling through the shared `client`.
    public init(name: String, configuration: GatewayConfiguration.Provider, client: HTTPClient) {
        self.name = name
        self.transport = HTTPTransport(providerName: name, configuration: configuration, client: client)
    }

    /// Krea cancels `queued` and `processing` jobs.
    public var canCancel: Bool { true }

    /// `krea-2/medium`, `krea-2/large`, `krea-2/medium-turbo`; `nil` for any other name.
    public func capabilities(for upstreamModel: String) -> ModelCapabilities? {
        KreaModels.capabilities(for: upstreamModel)
    }

    /// `POST /generate/image/krea/<upstreamModel>`; Krea answers 200 with the job (`queued`).
    public func submit(_ request: GenerationRequest, upstreamModel: String, callbackURL: String?) async throws(ProviderError) -> ProviderJobSnapshot {
        let response = try await transport.send(
            .POST, path: KreaWire.generatePath(upstreamModel: upstreamModel),
            headers: KreaWire.submitHeaders(callbackURL: callbackURL),
            jsonBody: KreaWire.requestBody(request).serialized)
        return try job(in: response, expecting: nil, mapError: KreaWire.error(status:headers:body:))
    }

    /// `GET /jobs/{id}`.
    public func fetch(providerJobID: String, upstreamModel: String) async throws(ProviderError) -> ProviderJobSnapshot {
        let response = try await transport.send(.GET, path: try Self.jobPath(providerJobID))
        return try job(in: response, expecting: providerJobID, mapError: KreaWire.error(status:headers:body:))
    }

    /// `DELETE /jobs/{id}`. A 400/409 (the job is past cancelling) is `notCancellable`. When the
    /// 200 answer carries the job it is returned; otherwise the job is read back with `GET`.
    public func cancel(providerJobID: String, upstreamModel: String) async throws(ProviderError) -> ProviderJobSnapshot {
        let response = try await transport.send(.DELETE, path: try Self.jobPath(providerJobID))
        guard response.isSuccess else {
            throw transport.redacting(KreaWire.cancelError(status: response.status, headers: response.headers, body: response.body))
        }
        if let snapshot = try? KreaWire.snapshot(from: response.body), snapshot.providerJobID == providerJobID {
            return transport.redacting(snapshot)
        }
        return try await fetch(providerJobID: providerJobID, upstreamModel: upstreamModel)
    }

    /// Krea's callback is the full job object: its `job_id`.
    public func providerJobID(inCallback body: [UInt8]) -> String? {
        KreaWire.jobID(inCallback: body)
    }

    /// The job path, or `notFound` without any call for an id that cannot be Krea's.
    static func jobPath(_ providerJobID: String) throws(ProviderError) -> String {
        guard let path = KreaWire.jobPath(jobID: providerJobID) else {
            throw ProviderError(kind: .notFound, message: "krea: not a valid job id")
        }
        return path
    }

    /// The job in a 2xx answer, or the mapped error. A job with another id than the one asked
    /// for is `invalidResponse`.
    private func job(
        in response: UpstreamResponse, expecting id: String?,
        mapError: (Int, [(name: String, value: String)], [UInt8]) -> ProviderError
    ) throws(ProviderError) -> ProviderJobSnapshot {
        guard response.isSuccess else { throw transport.redacting(mapError(response.status, response.headers, response.body)) }
        do throws(ProviderError) {
            let snapshot = try KreaWire.snapshot(from: response.body)
            if let id, snapshot.providerJobID != id {
                throw ProviderError(kind: .invalidResponse, message: "krea: the answer is about another job than the one asked for")
            }
            return transport.redacting(snapshot)
        } catch {
            var error = transport.redacting(error)
            error.httpStatus = response.status
            throw error
        }
    }
}
