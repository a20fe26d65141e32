import GatewayCore
import GatewayTestSupport
import Logging
import Providers
import Storage
import Synchronization
import Webhooks
@testable import GatewayApp

/// A provider whose answers a test scripts, and which records what it was sent.
final class ScriptedProvider: ImageProvider {
    let name: String
    private let answers = Mutex<[Result<ProviderJobSnapshot, ProviderError>]>([])
    private let submitted = Mutex<[GenerationRequest]>([])
    private let fetchAnswers = Mutex<[ProviderJobSnapshot]>([])
    private let fetched = Mutex<[String]>([])

    init(name: String) { self.name = name }

    /// Answers for the next submissions, in order (afterwards: a queued job each time).
    func script(_ next: Result<ProviderJobSnapshot, ProviderError>...) { answers.withLock { $0 += next } }

    /// Answers for the next job reads, in order (afterwards: the job is still running).
    func scriptFetch(_ next: ProviderJobSnapshot...) { fetchAnswers.withLock { $0 += next } }

    /// The provider job ids read so far, in order.
    var reads: [String] { fetched.withLock { $0 } }

    /// Every request submitted so far.
    var received: [GenerationRequest] { submitted.withLock { $0 } }

    func capabilities(for upstreamModel: String) -> ModelCapabilities? {
        ModelCapabilities(aspectRatios: ["1:1", "16:9"], resolutions: ["1K", "2K"], optionalFields: [.aspectRatio, .resolution],
                          seedRange: 0...100, maxPromptCharacters: 1000)
    }

    func submit(_ request: GenerationRequest, upstreamModel: String, callbackURL: String?) async throws(ProviderError) -> ProviderJobSnapshot {
        let count = submitted.withLock { $0.append(request); return $0.count }
        let answer = answers.withLock { $0.isEmpty ? nil : $0.removeFirst() }
        switch answer {
        case .success(let snapshot)?: return snapshot
        case .failure(let error)?: throw error
        case nil: return ProviderJobSnapshot(providerJobID: "\(name)-\(count)", status: .queued, providerStatus: "queued")
        }
    }

    func fetch(providerJobID: String, upstreamModel: String) async throws(ProviderError) -> ProviderJobSnapshot {
        fetched.withLock { $0.append(providerJobID) }
        return fetchAnswers.withLock { $0.isEmpty ? nil : $0.removeFirst() }
            ?? ProviderJobSnapshot(providerJobID: providerJobID, status: .running, providerStatus: "running")
    }

    var canCancel: Bool { true }

    func cancel(providerJobID: String, upstreamModel: String) async throws(ProviderError) -> ProviderJobSnapshot {
        ProviderJobSnapshot(providerJobID: providerJobID, status: .cancelled, providerStatus: "cancelled")
    }

    func providerJobID(inCallback body: [UInt8]) -> String? { nil }
}

/// The submission service wired as the gateway wires it, over scripted providers, a store in
/// memory and a manual clock: no socket, no real time.
struct SubmissionFixture {
    static let yaml = """
        admin: {master_key: "fixture-master"}
        webhooks: {secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
        jobs: {max_age_s: 60}
        providers:
          primary: {kind: krea, base_url: "http://127.0.0.1:9", api_key: "k", poll_interval_s: 2}
          secondary: {kind: evolink, base_url: "http://127.0.0.1:9", api_key: "k"}
        models:
          model-a: {provider: primary, upstream_model: "a", price: {base_usd: "0.030"}}
          model-b: {provider: secondary, upstream_model: "b", price: {base_usd: "0.010"}}
        aliases:
          both: [model-a, model-b]
        teams:
          design: {budget: {limit_usd: "0.070", period: monthly}}
        keys:
          - {id: key-a, name: "A", key: "kgw_fixture_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", team: design}
          - {id: key-b, name: "B", key: "kgw_fixture_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", models: [model-b], rpm: 1}
        """

    let clock = ManualClock()
    let store = ControllableStore()
    let primary = ScriptedProvider(name: "primary")
    let secondary = ScriptedProvider(name: "secondary")
    let keys: KeyRing
    let ledger = Ledger()
    let jobs: JobRegistry
    let tracker: JobTracker
    let service: SubmissionService

    init() throws {
        let configuration = try ConfigLoader.parse(yaml: Self.yaml, environment: [:])
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        keys = KeyRing(configuration: configuration)
        jobs = JobRegistry(stateStore: store, clock: clock)
        let providers: [String: any ImageProvider] = ["primary": primary, "secondary": secondary]
        let rateLimiter = RateLimiter()
        let outbox = JournaledOutbox(stateStore: store)
        let settlement = Settlement(
            keys: keys, ledger: ledger, rateLimiter: rateLimiter, outbox: outbox, stateStore: store,
            defaultWebhookSecret: configuration.webhooks.secret, clock: clock, startDelivery: { _ in })
        tracker = JobTracker(
            jobs: jobs, stateStore: store, providers: providers, configuration: configuration, clock: clock, logger: logger,
            onTerminal: { settlement.settle($0) })
        service = SubmissionService(
            keys: keys, models: LiveModels(try ModelTable(configuration: configuration, providers: providers)), jobs: jobs, stateStore: store,
            tracker: tracker, ledger: ledger, rateLimiter: rateLimiter, idempotency: IdempotencyKeys(clock: clock),
            callbacks: CallbackRoute(publicBaseURL: nil, tokens: CallbackToken(masterKey: "fixture-master")),
            webhookPolicy: URLPolicy(allowHTTP: false, allowPrivateNetworks: false, allowedHosts: []),
            defaultWebhookSecret: configuration.webhooks.secret, clock: clock, logger: logger)
    }

    /// The authenticated key `id`.
    func key(_ id: String) -> AuthenticatedKey {
        keys.authenticate(token: id == "key-a" ? "kgw_fixture_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" : "kgw_fixture_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")!
    }

    /// A request for `model`.
    static func request(_ model: String, prompt: String = "a lighthouse at dawn") -> GenerationRequest {
        try! GenerationRequest.decode(Array("{\"model\":\"\(model)\",\"prompt\":\"\(prompt)\"}".utf8))
    }

    /// The design team's standing now.
    var team: BudgetStanding {
        ledger.standing(of: keys.applicableBudgets(for: key("key-a")).first { $0.owner == .team("design") }!, at: clock.now())
    }

    /// Everything the store holds.
    func stored() async throws -> StoredState { try await store.inner.load() }
}

extension SubmissionOutcome {
    var accepted: AcceptedSubmission? {
        if case .accepted(let accepted) = self { return accepted }
        return nil
    }

    var refusal: SubmissionRefusal? {
        if case .refused(let refusal) = self { return refusal }
        return nil
    }
}
