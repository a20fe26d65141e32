import GatewayCore
import HTTPServer
import Synchronization

/// What both simulators share: the server and its lifecycle, the request log, injected
/// submission failures, authentication, callbacks, and the `/__sim/` control endpoints.
///
/// Public by name only (a ``ProviderSimulator`` hands it out); every member is internal.
public final class SimulatorCore: Sendable {
    let configuration: SimulatorConfiguration
    let recorder: BoundedLog<RecordedRequest>
    let callbacks: CallbackDeliverer
    private let injected = Mutex<(status: Int, remaining: Int)>((0, 0))
    private let running = Mutex<(server: HTTPServer, baseURL: String)?>(nil)

    init(configuration: SimulatorConfiguration) {
        self.configuration = configuration
        recorder = BoundedLog(capacity: configuration.maxRecordedRequests)
        callbacks = CallbackDeliverer(
            copies: configuration.callbackCopies, timeout: configuration.callbackTimeout,
            workers: configuration.callbackWorkers, logCapacity: configuration.maxRecordedRequests)
    }

    /// Starts serving `router` (plus the control endpoints); returns the base URL. Starting a
    /// started simulator returns the same URL.
    func start(router: Router, renderError: @escaping HTTPErrorRenderer) throws -> String {
        var router = router
        addControlRoutes(to: &router)
        let routed = router.handler
        let recorder = recorder
        let handler: HTTPHandler = { request in
            if !request.path.hasPrefix("/__sim/") {
                recorder.append(RecordedRequest(method: request.method, path: request.head.target, headers: request.headers, body: request.body))
            }
            return await routed(request)
        }
        return try running.withLock { running in
            if let running { return running.baseURL }
            let server = HTTPServer(
                configuration: .init(host: configuration.host, port: configuration.port, shutdownGrace: .seconds(2)),
                handler: handler, renderError: renderError)
            let address = try server.start()
            callbacks.resume()
            let host = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
            let baseURL = "http://\(host == "localhost" ? "127.0.0.1" : host):\(address.port)"
            running = (server, baseURL)
            return baseURL
        }
    }

    /// Stops serving and stops sending callbacks.
    func shutdown() async {
        callbacks.stop()
        let server = running.withLock { running in
            defer { running = nil }
            return running?.server
        }
        await server?.shutdown()
    }

    var baseURL: String? { running.withLock { $0?.baseURL } }

    // MARK: Authentication and injected failures

    /// Whether the request carries `Authorization: Bearer <apiKey>`.
    func isAuthorized(_ request: HTTPRequest) -> Bool {
        guard let value = request.headers["authorization"] else { return false }
        let parts = value.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        return parts.count == 2 && parts[0].lowercased() == "bearer" && parts[1] == configuration.apiKey
    }

    func injectSubmissionFailures(status: Int, count: Int) {
        injected.withLock { $0 = (status, max(count, 0)) }
    }

    /// The status the next submission must fail with, if a failure is pending (consumes it).
    func takeInjectedFailure() -> Int? {
        injected.withLock { injected in
            guard injected.remaining > 0 else { return nil }
            injected.remaining -= 1
            return injected.status
        }
    }

    // MARK: Control endpoints (not recorded, no authentication)

    private func addControlRoutes(to router: inout Router) {
        router.add("POST", "/__sim/inject") { [self] request in
            guard let body = try? JSONParser.parse(request.body), let status = body["status"]?.integerValue,
                  (400...599).contains(status), let count = body["count"]?.integerValue, count >= 0
            else {
                return .json(400, .object([("error", .string("expected {\"status\": 400…599, \"count\": n}"))]))
            }
            injectSubmissionFailures(status: status, count: count)
            return .json(200, .object([("status", .int(status)), ("count", .int(count))]))
        }
        router.add("GET", "/__sim/received") { [self] _ in
            .json(200, .object([("requests", .array(recorder.snapshot().map(\.jsonValue)))]))
        }
        router.add("DELETE", "/__sim/received") { [self] _ in
            recorder.removeAll()
            return .json(200, .object([("cleared", .bool(true))]))
        }
        router.add("GET", "/__sim/callbacks") { [self] _ in
            .json(200, .object([
                ("pending", .int(callbacks.pendingCount)),
                ("attempts", .array(callbacks.attempts.snapshot().map(\.jsonValue))),
            ]))
        }
    }
}
