/// How a provider simulator (``KreaSimulator``, ``EvolinkSimulator``) behaves. Every default is
/// set in the initializer.
public struct SimulatorConfiguration: Sendable, CustomStringConvertible {
    /// Numeric host to bind (`127.0.0.1`, `::1`; `localhost` means `127.0.0.1`).
    public var host: String
    /// Port to bind; 0 picks a free one (read the base URL back from `start()`).
    public var port: Int
    /// The one accepted bearer token; a wrong or missing one is a 401 in the provider's error shape.
    public var apiKey: String
    /// Time between two lifecycle statuses of a job (queued → processing → … → terminal).
    public var stepDelay: Duration
    /// How many times each callback is POSTed (providers deliver at least once).
    public var callbackCopies: Int
    /// Evolink: refuse a `callback_url` that is not https, or names a loopback/private host
    /// (PROVIDERS.md). Tests that receive callbacks on 127.0.0.1 set it to false.
    public var enforceCallbackURLPolicy: Bool
    /// Most jobs kept; beyond it the oldest are forgotten (404 afterwards, and no callback).
    public var maxRetainedJobs: Int
    /// Most recorded requests (and callback attempts) kept; beyond it the oldest are dropped.
    public var maxRecordedRequests: Int
    /// Deadline of one callback POST (connect, send and read the answer).
    public var callbackTimeout: Duration
    /// Serial queues that deliver callbacks (each blocks on its socket while it delivers).
    public var callbackWorkers: Int

    /// A configuration with every default; only the API key is required.
    public init(
        apiKey: String,
        host: String = "127.0.0.1",
        port: Int = 0,
        stepDelay: Duration = .milliseconds(200),
        callbackCopies: Int = 2,
        enforceCallbackURLPolicy: Bool = true,
        maxRetainedJobs: Int = 100_000,
        maxRecordedRequests: Int = 10_000,
        callbackTimeout: Duration = .seconds(5),
        callbackWorkers: Int = 4
    ) {
        self.apiKey = apiKey
        self.host = host
        self.port = port
        self.stepDelay = stepDelay
        self.callbackCopies = callbackCopies
        self.enforceCallbackURLPolicy = enforceCallbackURLPolicy
        self.maxRetainedJobs = maxRetainedJobs
        self.maxRecordedRequests = maxRecordedRequests
        self.callbackTimeout = callbackTimeout
        self.callbackWorkers = callbackWorkers
    }

    /// The configuration with the API key redacted.
    public var description: String {
        "SimulatorConfiguration(host: \(host), port: \(port), apiKey: <redacted>, stepDelay: \(stepDelay), "
            + "callbackCopies: \(callbackCopies), enforceCallbackURLPolicy: \(enforceCallbackURLPolicy), "
            + "maxRetainedJobs: \(maxRetainedJobs), maxRecordedRequests: \(maxRecordedRequests))"
    }
}
