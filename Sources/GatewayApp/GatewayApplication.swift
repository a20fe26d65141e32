#if canImport(Glibc)
import Glibc
#endif
import GatewayCore
import HTTPServer
import Logging
import Providers
import Storage
import Synchronization
import Webhooks

/// The composition root: turns a loaded configuration into an `HTTPServer` with the gateway's
/// routes, and translates between HTTP and the domain (ARCHITECTURE.md: only here).
public final class GatewayApplication: Sendable {
    /// The configuration the application was built from.
    public let configuration: GatewayConfiguration
    /// Every job the gateway follows.
    public let jobs: JobRegistry
    /// Budgets and reservations.
    public let ledger: Ledger
    /// Caller webhooks.
    public let webhooks: WebhookDeliverer
    /// The durable record (SQLite under `state.dir`, or memory).
    public let stateStore: any StateStore
    let keys: KeyRing
    let rateLimiter: RateLimiter
    let outbox: JournaledOutbox
    let settlement: Settlement
    let metrics: GatewayMetrics
    let reloader: ConfigReloader
    let idempotency: IdempotencyKeys
    let clock: any GatewayClock
    /// Every route served, `(method, pattern)`.
    let routeTable: [(method: String, pattern: String)]
    let logger: Logger
    private let server: HTTPServer
    /// The `server.tls` listener, when configured: the same routes over TLS.
    private let tlsServer: HTTPServer?
    /// Set when shutdown begins: `/readyz` answers 503 from then on (API.md §8).
    private let draining: DrainFlag
    let tracker: JobTracker
    private let eviction = Mutex<Task<Void, Never>?>(nil)

    /// A configuration the application cannot run with (checked before listening).
    public struct StartupError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Builds the application over the given provider adapters (by provider name) and state
    /// store; nothing listens until `start()`. With a store that holds state, call `recover()`
    /// before `start()` (or use `open`, which does both the opening and the recovery).
    /// `keepingFinishedJobs`: how many finished jobs stay in memory (the rest are read from the
    /// store when asked for): 10,000 over a store that keeps finished jobs; 100,000 over one that
    /// does not, where a job that leaves memory is gone.
    public init(configuration: GatewayConfiguration, providers unmetered: [String: any ImageProvider], stateStore: any StateStore = MemoryStateStore(),
                keepingFinishedJobs: Int? = nil, clock: any GatewayClock = SystemClock(), logger: Logger) throws(StartupError) {
        self.configuration = configuration
        self.stateStore = stateStore
        self.clock = clock
        self.logger = logger
        // The TLS listener's context first: a bad certificate or key stops the start with a clear
        // error before anything that must be shut down exists. A reload makes it again.
        var tlsContext: TLSContext?
        if let tls = configuration.server.tls {
            do throws(TLSError) {
                tlsContext = try TLSContext(configuration: Self.tlsConfiguration(tls))
            } catch {
                throw StartupError(description: "server.tls: \(error)")
            }
        }
        let metrics = GatewayMetrics()
        self.metrics = metrics
        let providers = unmetered.mapValues { MeteredProvider(inner: $0, metrics: metrics) as any ImageProvider }
        let models: LiveModels
        do {
            models = LiveModels(try ModelTable(configuration: configuration, providers: providers))
        } catch {
            throw StartupError(description: error.description)
        }
        let jobs = JobRegistry(
            stateStore: stateStore, keepingFinished: keepingFinishedJobs ?? (stateStore.keepsFinishedJobs ? 10_000 : 100_000), clock: clock)
        self.jobs = jobs
        let ledger = Ledger(), rateLimiter = RateLimiter(), keys = KeyRing(configuration: configuration), idempotency = IdempotencyKeys(clock: clock)
        self.ledger = ledger
        self.keys = keys
        self.rateLimiter = rateLimiter
        self.idempotency = idempotency
        let outbox = JournaledOutbox(stateStore: stateStore)
        self.outbox = outbox
        let policy = URLPolicy(
            allowHTTP: configuration.webhooks.allowHTTP, allowPrivateNetworks: configuration.webhooks.allowPrivateNetworks,
            allowedHosts: configuration.webhooks.allowedHosts)
        let deliverer = WebhookDeliverer(
            configuration: .init(timeout: configuration.webhooks.timeout, retrySchedule: configuration.webhooks.retrySchedule, policy: policy),
            outbox: outbox,
            observer: { delivery, attempt in
                metrics.webhookAttempt(outcome: delivery.state == .pending ? "retrying" : delivery.state.rawValue)
                logger.info("webhook attempt", metadata: [
                    "delivery_id": "\(delivery.id)", "job_id": "\(delivery.jobID)", "state": "\(delivery.state.rawValue)",
                    "status": "\(attempt.status.map(String.init) ?? "-")", "error": "\(attempt.error ?? "-")",
                    "latency_ms": "\(attempt.latencyMilliseconds)"])
            })
        webhooks = deliverer
        let settlement = Settlement(
            keys: keys, ledger: ledger, rateLimiter: rateLimiter, outbox: outbox, stateStore: stateStore,
            defaultWebhookSecret: configuration.webhooks.secret, clock: clock, startDelivery: { deliverer.deliver(storedID: $0) })
        self.settlement = settlement
        // Pollers run on the HTTP server's loops: on Swift's global executor every poll woke a
        // Dispatch worker thread as well.
        let serverConfiguration = Self.serverConfiguration(configuration.server)
        let tracker = JobTracker(
            jobs: jobs, stateStore: stateStore, providers: providers, configuration: configuration,
            executors: HTTPServer.taskExecutors(count: serverConfiguration.eventLoopCount), clock: clock, logger: logger,
            onTerminal: { settlement.settle($0) })
        self.tracker = tracker
        let auth = Authenticator(keys: keys, masterKey: configuration.admin.masterKey.value)
        let callbacks = CallbackRoute(publicBaseURL: configuration.server.publicBaseURL, tokens: CallbackToken(masterKey: configuration.admin.masterKey.value))
        let submissions = SubmissionService(
            keys: keys, models: models, jobs: jobs, stateStore: stateStore, tracker: tracker, ledger: ledger, rateLimiter: rateLimiter,
            idempotency: idempotency, callbacks: callbacks, webhookPolicy: policy, defaultWebhookSecret: configuration.webhooks.secret,
            clock: clock, logger: logger)
        let access = JobAccess(jobs: jobs, models: models, tracker: tracker, stateStore: stateStore, logger: logger)
        let draining = DrainFlag()
        self.draining = draining
        var router = Router(renderError: Self.renderError)
        Self.addOperationalRoutes(to: &router, draining: draining, stateStore: stateStore)
        GenerationRoutes(auth: auth, submissions: submissions, access: access, jobs: jobs, tracker: tracker, callbacks: callbacks, logger: logger)
            .register(on: &router)
        ModelRoutes(models: models, auth: auth).register(on: &router)
        OpenAIImagesRoute(auth: auth, submissions: submissions, models: models, maxWait: configuration.compat.openAIMaxWait).register(on: &router)
        KreaRoutes(auth: auth, submissions: submissions, access: access, paths: configuration.compat.kreaPaths).register(on: &router)
        UsageRoutes(auth: auth, keys: keys, ledger: ledger, rateLimiter: rateLimiter, clock: clock).register(on: &router)
        let tlsReference = Mutex(WeakServer())
        let reloader = ConfigReloader(
            configuration: configuration, models: models, keys: keys, tracker: tracker, metrics: metrics, logger: logger,
            tlsListener: tlsContext == nil ? nil : TLSReload(
                makeContext: { tls throws(TLSError) in try TLSContext(configuration: Self.tlsConfiguration(tls)) },
                install: { context in tlsReference.withLock { $0.server?.replaceTLSContext(context) } }))
        self.reloader = reloader
        AdminRoutes(keys: keys, masterKey: configuration.admin.masterKey.value, models: models, jobs: jobs, stateStore: stateStore,
                    ledger: ledger, webhooks: deliverer, reloader: reloader, clock: clock, logger: logger)
            .register(on: &router)
        let serverReference = Mutex(WeakServer())
        let observability = Observability(
            metrics: metrics, settings: configuration.metrics, jobs: jobs, ledger: ledger, keys: keys, tracker: tracker,
            outbox: outbox, stateStore: stateStore, openConnections: {
                serverReference.withLock { $0.server?.openConnectionCount ?? 0 } + tlsReference.withLock { $0.server?.openConnectionCount ?? 0 }
            })
        observability.register(on: &router)
        routeTable = router.registeredRoutes
        let handler = observability.instrument(router.handler, logger: logger)
        let server = HTTPServer(configuration: serverConfiguration, handler: handler, renderError: Self.renderError)
        serverReference.withLock { $0.server = server }
        self.server = server
        if let tlsContext, let tls = configuration.server.tls {
            var tlsConfiguration = serverConfiguration
            tlsConfiguration.host = tls.listen.host
            tlsConfiguration.port = Int(tls.listen.port)
            tlsConfiguration.tls = tlsContext
            let tlsServer = HTTPServer(configuration: tlsConfiguration, handler: handler, renderError: Self.renderError)
            tlsReference.withLock { $0.server = tlsServer }
            self.tlsServer = tlsServer
        } else {
            tlsServer = nil
        }
    }

    /// The TLS listener's bound address, once started (`nil` without `server.tls`).
    public var tlsAddress: SocketAddress? { tlsServer?.localAddress }

    /// `server.tls` as the HTTP core takes it.
    static func tlsConfiguration(_ tls: GatewayConfiguration.Server.TLS) -> TLSConfiguration {
        TLSConfiguration(
            certificateChainFile: tls.certificateFile, privateKeyFile: tls.keyFile,
            minimumVersion: tls.minimumVersion == "1.3" ? .tls13 : .tls12, clientCAFile: tls.clientCAFile)
    }

    /// Binds and starts serving; returns the bound address (the real port when `listen` asked for 0).
    @discardableResult
    public func start() throws(SocketError) -> SocketAddress {
        let address = try server.start()
        logger.info("listening", metadata: ["address": "\(address)", "port": "\(address.port)"])
        if let tlsServer {
            do throws(SocketError) {
                let secure = try tlsServer.start()
                logger.info("listening for TLS", metadata: ["address": "\(secure)", "tls_port": "\(secure.port)"])
            } catch {
                logger.error("cannot listen for TLS", metadata: ["error": "\(error)"])
                throw error
            }
        }
        startEviction()
        return address
    }

    /// Once a second, finished jobs beyond what memory keeps leave it (they stay in the store).
    /// A job leaves only a full sweep after it finished, and only after a flush: its last change
    /// (queued right after its terminal transition) is on disk before memory lets it go. Every
    /// 30 sweeps the heap's free pages go back to the system (glibc keeps them otherwise, and a
    /// gateway that churns through millions of jobs on many threads would creep upwards).
    private func startEviction(every interval: Duration = .seconds(1)) {
        let jobs = self.jobs, ledger = self.ledger, stateStore = self.stateStore, logger = self.logger
        let task = Task {
            var marker = jobs.finishMarker
            var sweeps = 0
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                sweeps += 1
                if sweeps % 30 == 0 { Self.returnFreeMemory() }
                do {
                    try await stateStore.flush()
                } catch {
                    // Nothing leaves memory while the store fails: it is the only other copy.
                    continue
                }
                let evicted = jobs.evict(finishedBy: marker)
                if !evicted.isEmpty {
                    ledger.forgetCharges(jobIDs: evicted)
                    logger.trace("finished jobs left memory", metadata: ["count": "\(evicted.count)"])
                }
                marker = jobs.finishMarker
            }
        }
        eviction.withLock { $0 = task }
    }

    /// glibc's `malloc_trim(0)` (declared in `malloc.h`, which the Glibc module does not export:
    /// found by name, and skipped on a C library without it).
    private static func returnFreeMemory() {
        #if canImport(Glibc)
        typealias Trim = @convention(c) (Int) -> Int32
        guard let symbol = dlsym(nil, "malloc_trim") else { return }
        _ = unsafeBitCast(symbol, to: Trim.self)(0)
        #endif
    }

    /// Lets `reload()` and `POST /admin/reload` re-read the configuration from `source`.
    public func enableReload(_ source: ReloadSource) { reloader.enable(source) }

    /// Re-reads the configuration (SIGHUP): true when it was applied, false when it was refused
    /// (the errors are logged and the running configuration stays).
    @discardableResult
    public func reload() -> Bool {
        if case .success = reloader.reload() { return true }
        return false
    }

    /// Graceful shutdown (API.md §10): stop accepting, finish in-flight requests within
    /// `shutdown_grace_s`, then return.
    public func shutdown() async {
        draining.set()
        logger.info("shutting down", metadata: ["open_connections": "\(server.openConnectionCount + (tlsServer?.openConnectionCount ?? 0))"])
        async let plain: Void = server.shutdown()
        async let secure: Void? = tlsServer?.shutdown()
        _ = await (plain, secure)
        eviction.withLock { $0?.cancel() }
        tracker.stop()
        await webhooks.shutdown()
        // Everything queued reaches the disk before the process exits (API.md §10).
        await stateStore.close()
        let activity = stateStore.activity
        logger.info("state store closed", metadata: [
            "store": "\(stateStore.location)", "transactions": "\(activity.transactions)", "changes": "\(activity.changes)"])
        logger.info("stopped")
    }

    // MARK: Routes

    static func addOperationalRoutes(to router: inout Router, draining: DrainFlag, stateStore: any StateStore) {
        router.add("GET", "/healthz") { _ in json(200, "{\"status\":\"ok\"}") }
        router.add("GET", "/openapi.json") { _ in json(200, OpenAPIDocument.json) }
        // Ready while the configuration is loaded and the store takes writes; 503 once draining,
        // so a load balancer stops sending new work before the connections close.
        router.add("GET", "/readyz") { _ in
            if draining.isSet {
                return render(APIError(status: 503, kind: .api, code: "draining", message: "the gateway is shutting down"))
            }
            if let failure = stateStore.failure {
                return render(APIError(status: 503, kind: .api, code: "storage_unavailable", message: "the state store is failing: \(failure)"))
            }
            return json(200, "{\"status\":\"ready\"}")
        }
    }

    // MARK: HTTP ↔ API

    /// Renders the HTTP layer's own errors (400, 404, 405, 408, 413, 414, 431, 503 …) in the API
    /// error shape, with a fresh request id since no request was read.
    static let renderError: HTTPErrorRenderer = { error in
        let apiError = APIError(
            status: error.status, kind: APIError.kind(forStatus: error.status), code: error.code, message: error.message)
        var response = render(apiError)
        for field in error.headers { response.headers.add(name: field.name, value: field.value) }
        response.headers.replaceOrAdd(name: "X-Request-Id", value: RequestID.generate())
        return response
    }

    /// An API error as a response.
    static func render(_ error: APIError) -> HTTPResponse {
        var response = json(error.status, error.jsonBody)
        if let seconds = error.retryAfterSeconds { response.headers.add(name: "Retry-After", value: String(seconds)) }
        return response
    }

    static func json(_ status: Int, _ body: String) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": "application/json"], body: body)
    }

    static func serverConfiguration(_ server: GatewayConfiguration.Server) -> HTTPServer.Configuration {
        var limits = HTTPParserLimits()
        limits.maxBodyBytes = server.maxBodyBytes
        return HTTPServer.Configuration(
            host: server.listen.host, port: Int(server.listen.port), limits: limits,
            headerTimeout: server.headerTimeout, idleTimeout: server.idleTimeout, bodyTimeout: server.bodyTimeout,
            maxConnections: server.maxConnections, shutdownGrace: server.shutdownGrace,
            compression: ResponseCompression(gzip: server.compression.gzip, minBytes: server.compression.minBytes))
    }
}

/// The server, for gauges read at scrape time, without a reference cycle through its handler.
struct WeakServer {
    weak var server: HTTPServer?
}

/// Whether shutdown has begun (shared with the `/readyz` route).
final class DrainFlag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .relaxed) }
    var isSet: Bool { value.load(ordering: .relaxed) }
}
