import AsyncHTTPClient
import Foundation
import GatewayApp
import GatewayCore
import HTTPServer
import Logging
import NIOCore
import NIOHTTP1
import ProviderSimulators
import Providers
import Storage
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The real gateway and both provider simulators on loopback ports, talking over real sockets.
final class GatewayHarness: Sendable {
    static let keyA = "kgw_test_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    static let keyB = "kgw_test_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
    static let turboOnlyKey = "kgw_test_tttttttttttttttttttttttttttttttttttt"
    static let masterKey = "test-master-key"

    let krea: KreaSimulator
    let evolink: EvolinkSimulator
    private let current: Mutex<GatewayApplication>
    /// The running gateway (a new one after `restart()`).
    var application: GatewayApplication { current.withLock { $0 } }
    let configuration: GatewayConfiguration
    /// The YAML the gateway was started with.
    let yaml: String
    let logger: Logger
    private let clientBox: Mutex<HTTPClient>
    /// The test's HTTP client (a new one after `restart()`: the old one's pooled connections
    /// went to the stopped gateway).
    var client: HTTPClient { clientBox.withLock { $0 } }
    private let clientConfiguration: HTTPClient.Configuration
    private let stopped = Mutex(false)
    let providerClient: HTTPClient
    let baseURL: String
    /// How many finished jobs the gateway keeps in memory (`nil`: its default).
    let keepingFinishedJobs: Int?

    /// Starts everything. `callbacks` sets `public_base_url` so providers call back;
    /// `extraYAML` is appended to the configuration (e.g. a `jobs:` section).
    init(callbacks: Bool = false, stepDelay: Duration = .milliseconds(40), pollInterval: Double = 0.05,
         providerTimeout: Double = 2, extraYAML: String = "", keysYAML: String? = nil, logSink: LineSink? = nil,
         stateDirectory: String? = nil, store: (any StateStore)? = nil, callbackCopies: Int? = nil, kreaURL fixedKreaURL: String? = nil,
         keepingFinishedJobs: Int? = nil) async throws {
        self.keepingFinishedJobs = keepingFinishedJobs
        var kreaSettings = SimulatorConfiguration(apiKey: "sim-krea-key", stepDelay: stepDelay, enforceCallbackURLPolicy: false)
        if let callbackCopies { kreaSettings.callbackCopies = callbackCopies }
        var evolinkSettings = SimulatorConfiguration(apiKey: "sim-evolink-key", stepDelay: stepDelay, enforceCallbackURLPolicy: false)
        if let callbackCopies { evolinkSettings.callbackCopies = callbackCopies }
        krea = KreaSimulator(configuration: kreaSettings)
        evolink = EvolinkSimulator(configuration: evolinkSettings)
        let startedKrea = try krea.start(), evolinkURL = try evolink.start()
        // A test may point the Krea provider elsewhere (a peer that misbehaves at the TCP level).
        let kreaURL = fixedKreaURL ?? startedKrea
        let port = try Self.freePort()
        let yaml = """
            server:
              listen: "127.0.0.1:\(port)"
              public_base_url: "\(callbacks ? "http://127.0.0.1:\(port)" : "")"
            state: {dir: "\(stateDirectory ?? "")"}
            admin: {master_key: "\(Self.masterKey)"}
            providers:
              krea: {kind: krea, base_url: "\(kreaURL)", api_key: "sim-krea-key", timeout_s: \(providerTimeout), poll_interval_s: \(pollInterval)}
              evolink: {kind: evolink, base_url: "\(evolinkURL)", api_key: "sim-evolink-key", timeout_s: \(providerTimeout), poll_interval_s: \(pollInterval)}
            models:
              krea-2-medium:
                provider: krea
                upstream_model: "krea-2/medium"
                price:
                  base_usd: "0.030"
                  rules:
                    - {if: moodboards, usd: "0.040"}
                    - {if: image_style_references, usd: "0.035"}
              krea-2-large:
                provider: krea
                upstream_model: "krea-2/large"
                price:
                  base_usd: "0.060"
                  rules:
                    - {if: moodboards, usd: "0.070"}
                    - {if: image_style_references, usd: "0.065"}
              krea-2-turbo:
                provider: evolink
                upstream_model: "krea-2-turbo"
                price:
                  base_usd: "0.0067"
                  rules:
                    - {if: {resolution: "2K"}, usd: "0.027"}
            aliases:
              default: krea-2-medium
              fast: [krea-2-turbo, krea-2-medium]
            \(keysYAML ?? """
            keys:
              - {id: key-a, name: "A", key: "\(Self.keyA)"}
              - {id: key-b, name: "B", key: "\(Self.keyB)"}
              - {id: turbo-only, name: "T", key: "\(Self.turboOnlyKey)", models: [krea-2-turbo]}
            """)
            logging: {level: error, format: text}
            \(extraYAML)
            """
        let configuration = try ConfigLoader.parse(yaml: yaml, environment: [:])
        // As `serve` builds it: on the provider loops.
        providerClient = ProviderRegistry.makeClient()
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        if let logSink {
            logger = Logger(label: "krea-gateway") { label in JSONLogHandler(label: label, level: .info, sink: logSink) }
        }
        self.configuration = configuration
        self.yaml = yaml
        self.logger = logger
        let providers = ProviderRegistry.makeProviders(configuration, client: providerClient)
        let application: GatewayApplication
        if let store {
            application = try GatewayApplication(
                configuration: configuration, providers: providers, stateStore: store, keepingFinishedJobs: keepingFinishedJobs, logger: logger)
            try await application.recover()
        } else {
            application = try await GatewayApplication.open(
                configuration: configuration, providers: providers, keepingFinishedJobs: keepingFinishedJobs, logger: logger)
        }
        current = Mutex(application)
        do {
            try application.start()
        } catch {
            // A failure of this test, not a crash of the test process (an application dropped
            // without shutdown traps in AsyncHTTPClient's debug check).
            await application.shutdown()
            try? await providerClient.shutdown()
            await krea.shutdown()
            await evolink.shutdown()
            throw error
        }
        baseURL = "http://127.0.0.1:\(port)"
        var clientConfiguration = HTTPClient.Configuration()
        // Hundreds of simultaneous submissions must really be simultaneous.
        clientConfiguration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 600
        self.clientConfiguration = clientConfiguration
        clientBox = Mutex(HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration))
    }

    func stop() async {
        stopped.withLock { $0 = true }
        await application.shutdown()
        try? await client.shutdown()
        try? await providerClient.shutdown()
        await krea.shutdown()
        await evolink.shutdown()
    }

    /// Stops the gateway as SIGTERM does and starts a new one on the same configuration, port and
    /// `state.dir`; the simulators keep running (and keep the provider-side jobs).
    func restart() async throws {
        await application.shutdown()
        let next = try await GatewayApplication.open(
            configuration: configuration, providers: ProviderRegistry.makeProviders(configuration, client: providerClient),
            keepingFinishedJobs: keepingFinishedJobs, logger: logger)
        current.withLock { $0 = next }
        try next.start()
        let fresh = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
        let old = clientBox.withLock { box in
            defer { box = fresh }
            return box
        }
        try? await old.shutdown()
    }

    /// A test that throws before `stop()` must fail, not crash the whole test process: clients
    /// and servers that were never shut down are kept alive (AsyncHTTPClient traps in a debug
    /// build when a client is freed unstopped).
    deinit {
        guard !stopped.withLock({ $0 }) else { return }
        let kept: [any Sendable] = [client, providerClient, krea, evolink, application]
        HarnessLeaks.keep(kept)
    }

    /// A port that was free a moment ago (the gateway needs its own URL before it starts).
    /// A port that is free now and that the kernel will not hand out by itself in the meantime:
    /// below the ephemeral range (outgoing connections and `bind(0)` — every simulator of every
    /// test running in parallel — take ports from there, and one of them could take a port this
    /// returned before the gateway binds it). Falls back to a kernel-chosen port.
    static func freePort() throws -> Int {
        let range = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8))?
            .split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).compactMap { Int($0) }
        if let low = range?.first, low > 12_000 {
            for _ in 0..<200 {
                let candidate = Int.random(in: 10_000..<low)
                if isFree(candidate) { return candidate }
            }
        }
        return kernelChosenPort()
    }

    /// Whether `port` can be bound on 127.0.0.1 right now.
    static func isFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let length = socklen_t(MemoryLayout<sockaddr_in>.size)
        return withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } } == 0
    }

    static func kernelChosenPort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    struct Reply: Sendable {
        let status: Int
        let headers: [(String, String)]
        let body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:] }
        var error: [String: Any] { json["error"] as? [String: Any] ?? [:] }
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    }

    /// One request to the gateway.
    func send(_ method: HTTPMethod, _ path: String, key: String? = keyA, json: String? = nil, headers: [(String, String)] = []) async throws -> Reply {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let key { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        }
        let response = try await client.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 4 << 20)
        return Reply(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) }, body: Array(buffer: body))
    }

    /// Creates a generation and returns the reply.
    func generate(_ json: String, key: String? = keyA, headers: [(String, String)] = []) async throws -> Reply {
        try await send(.POST, "/v1/generations", key: key, json: json, headers: headers)
    }

    /// Polls GET until the job is terminal (bounded).
    func waitTerminal(_ id: String, key: String = keyA, timeout: Duration = .seconds(10)) async throws -> Reply {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let reply = try await send(.GET, "/v1/generations/\(id)", key: key)
            if let status = reply.json["status"] as? String, ["completed", "failed", "cancelled"].contains(status) { return reply }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw HarnessError(description: "job \(id) did not finish within \(timeout)")
    }
}

struct HarnessError: Error, CustomStringConvertible { let description: String }

/// What unstopped harnesses leave behind, kept until the process ends.
enum HarnessLeaks {
    private static let kept = Mutex<[any Sendable]>([])
    static func keep(_ objects: [any Sendable]) { kept.withLock { $0.append(contentsOf: objects) } }
}
