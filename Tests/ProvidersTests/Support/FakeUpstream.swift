import AsyncHTTPClient
import GatewayCore
import HTTPServer
@testable import Providers
import Synchronization

/// What the fake upstream received.
struct ReceivedRequest: Sendable {
    var method: String
    var path: String
    var headers: HTTPHeaders
    var body: [UInt8]

    var bodyJSON: JSONValue? { try? JSONParser.parse(body) }
}

/// A real HTTP server on 127.0.0.1 (port 0) serving canned provider answers through a `Router`,
/// recording every request it gets, so adapters are exercised over real sockets.
final class FakeUpstream: Sendable {
    private final class RequestLog: Sendable {
        let entries = Mutex<[ReceivedRequest]>([])
    }

    private let server: HTTPServer
    private let log = RequestLog()
    /// `http://127.0.0.1:<port>`.
    let baseURL: String

    /// Starts a server with the routes `configure` adds.
    init(_ configure: (inout Router) -> Void) throws {
        var router = Router()
        configure(&router)
        let routed = router.handler
        let log = self.log
        server = HTTPServer(
            configuration: .init(host: "127.0.0.1", port: 0, shutdownGrace: .milliseconds(50), eventLoopCount: 1),
            handler: { request in
                log.entries.withLock {
                    $0.append(ReceivedRequest(method: request.method, path: String(request.path), headers: request.headers, body: request.body))
                }
                return await routed(request)
            })
        let address = try server.start()
        baseURL = "http://127.0.0.1:\(address.port)"
    }

    /// Every request received so far.
    var received: [ReceivedRequest] { log.entries.withLock { $0 } }

    func shutdown() async { await server.shutdown() }
}

/// A JSON answer.
func json(_ status: Int, _ body: [UInt8], headers: HTTPHeaders = [:]) -> HTTPResponse {
    var headers = headers
    headers.add(name: "Content-Type", value: "application/json")
    return HTTPResponse(status: status, headers: headers, body: body)
}

func json(_ status: Int, _ text: String, headers: HTTPHeaders = [:]) -> HTTPResponse {
    json(status, Array(text.utf8), headers: headers)
}

/// The api key the adapters under test use; tests check it never leaks into an error.
let testAPIKey = "sk-test-0123456789abcdef"

/// A provider configuration pointing at `baseURL`.
func providerConfiguration(_ kind: GatewayConfiguration.Provider.Kind, baseURL: String, timeout: Duration = .seconds(5)) -> GatewayConfiguration.Provider {
    GatewayConfiguration.Provider(name: kind.rawValue, kind: kind, baseURL: baseURL, apiKey: Secret(testAPIKey), timeout: timeout)
}

/// Runs `body` with a fresh `HTTPClient` and fake upstream, shutting both down afterwards.
func withUpstream<T>(
    _ configure: (inout Router) -> Void, _ body: (HTTPClient, FakeUpstream) async throws -> T
) async throws -> T {
    let upstream = try FakeUpstream(configure)
    let client = HTTPClient(eventLoopGroupProvider: .singleton)
    do {
        let result = try await body(client, upstream)
        try await client.shutdown()
        await upstream.shutdown()
        return result
    } catch {
        try? await client.shutdown()
        await upstream.shutdown()
        throw error
    }
}

/// The `ProviderError` `operation` throws, or `nil` when it succeeds.
func providerError<T>(_ operation: () async throws(ProviderError) -> T) async -> ProviderError? {
    do {
        _ = try await operation()
        return nil
    } catch {
        return error
    }
}
