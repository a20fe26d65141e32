import ArgumentParser
import GatewayCore
import Logging
import ProviderSimulators
#if canImport(Glibc)
import Glibc
#endif

/// `krea-gateway demo`: the gateway with the built-in Krea and Evolink simulators in-process, so
/// a newcomer with no provider keys can submit a job with curl and watch it complete.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the gateway with built-in provider simulators (no provider keys needed).")

    @Option(name: .long, help: "Path of the YAML configuration file; its providers' base_url ports are where the simulators listen.")
    var config: String = "config/demo.yaml"

    @Option(name: .long, help: "Seconds between a simulated job's status changes.")
    var stepSeconds: Double = 1

    @Flag(name: .long, help: "Run only the simulators (until SIGTERM/SIGINT), for a gateway started separately.")
    var simulatorsOnly = false

    func run() async throws {
        let configuration = try loadOrExit(config)
        let logger = makeLogger(configuration.logging)
        var simulators: [@Sendable () async -> Void] = []
        for provider in configuration.providers {
            guard let port = Self.loopbackPort(provider.baseURL) else {
                printError("demo: providers.\(provider.name).base_url must be http://127.0.0.1:<port> for the simulator")
                throw ExitCode(2)
            }
            var settings = SimulatorConfiguration(apiKey: provider.apiKey.value)
            settings.port = port
            settings.stepDelay = .milliseconds(Int(stepSeconds * 1000))
            // The demo's callbacks go to the gateway on loopback over http.
            settings.enforceCallbackURLPolicy = false
            let simulator: any ProviderSimulator = switch provider.kind {
            case .krea: KreaSimulator(configuration: settings)
            case .evolink: EvolinkSimulator(configuration: settings)
            }
            try simulator.start()
            simulators.append { await simulator.shutdown() }
            logger.info("simulator started", metadata: ["provider": "\(provider.name)", "kind": "\(provider.kind.rawValue)", "base_url": "\(provider.baseURL)"])
        }
        if simulatorsOnly {
            let signal = await Signals.first(of: [SIGTERM, SIGINT])
            logger.info("signal received", metadata: ["signal": "\(signal)"])
            for stop in simulators { await stop() }
            return
        }
        try await serve(configuration, path: config, logger: logger) {
            for stop in simulators { await stop() }
        }
    }

    /// The port of `http://127.0.0.1:<port>` or `http://localhost:<port>`.
    static func loopbackPort(_ url: String) -> Int? {
        for prefix in ["http://127.0.0.1:", "http://localhost:"] where url.hasPrefix(prefix) {
            let rest = url.dropFirst(prefix.count).prefix { $0 != "/" }
            return Int(rest)
        }
        return nil
    }
}
