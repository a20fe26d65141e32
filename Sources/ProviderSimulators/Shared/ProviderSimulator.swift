/// The public face both simulators share: lifecycle, the request log, callbacks and injected
/// failures. A conforming simulator adds only its own routes (``start()``) and its job bodies.
public protocol ProviderSimulator: AnyObject, Sendable {
    /// A simulator that is not started yet.
    init(configuration: SimulatorConfiguration)

    /// Binds and starts serving; returns the base URL (`http://127.0.0.1:<port>`). Starting a
    /// started simulator returns the same URL.
    @discardableResult
    func start() throws -> String

    /// The server, request log and callbacks behind this face (opaque outside this module).
    var core: SimulatorCore { get }
}

extension ProviderSimulator {
    /// The configuration it was made with.
    public var configuration: SimulatorConfiguration { core.configuration }

    /// Stops serving and sending callbacks.
    public func shutdown() async { await core.shutdown() }

    /// The base URL once started.
    public var baseURL: String? { core.baseURL }

    /// Every request received (control requests excluded), in arrival order; the newest
    /// `maxRecordedRequests` only.
    public func received() -> [RecordedRequest] { core.recorder.snapshot() }

    /// Forgets the recorded requests.
    public func clearReceived() { core.recorder.removeAll() }

    /// Every callback POST made so far (each copy is one attempt), oldest first.
    public func callbackAttempts() -> [CallbackAttempt] { core.callbacks.attempts.snapshot() }

    /// Callbacks scheduled or being sent.
    public var pendingCallbackCount: Int { core.callbacks.pendingCount }

    /// The next `count` submissions (after authentication) answer `status` with the provider's
    /// error body.
    public func injectSubmissionFailures(status: Int, count: Int) { core.injectSubmissionFailures(status: status, count: count) }
}
