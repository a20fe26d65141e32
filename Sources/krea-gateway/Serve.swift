import ArgumentParser
import AsyncHTTPClient
import Dispatch
import GatewayApp
import GatewayCore
import Logging
import Providers
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `krea-gateway serve --config PATH`: load, validate, listen, and stop cleanly on SIGTERM/SIGINT.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the gateway (the default subcommand).")

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let configuration = try loadOrExit(options.config)
        try await serve(configuration, path: options.config, logger: makeLogger(configuration.logging))
    }
}

/// Runs the gateway until SIGTERM or SIGINT, then drains and returns (exit status 0). SIGHUP
/// re-reads the configuration at `path` (as `POST /admin/reload` does).
func serve(_ configuration: GatewayConfiguration, path: String, logger: Logger, beforeShutdown: () async -> Void = {}) async throws {
    // Writes use MSG_NOSIGNAL; SIGPIPE is ignored too so no other write can kill the process.
    signal(SIGPIPE, SIG_IGN)
    let client = ProviderRegistry.makeClient()
    let application: GatewayApplication
    do {
        application = try await GatewayApplication.open(
            configuration: configuration, providers: ProviderRegistry.makeProviders(configuration, client: client), logger: logger)
    } catch {
        logger.critical("cannot start", metadata: ["error": "\(error)"])
        try? await client.shutdown()
        throw ExitCode(2)
    }
    do {
        try application.start()
    } catch {
        logger.critical("cannot listen", metadata: ["listen": "\(configuration.server.listen)", "error": "\(error)"])
        await application.shutdown()
        try? await client.shutdown()
        throw ExitCode(1)
    }
    application.enableReload(ReloadSource(
        load: { try ConfigLoader.load(path: path, environment: Environment.current) },
        makeProviders: { ProviderRegistry.makeProviders($0, client: client) }))
    for await signal in Signals.stream(of: [SIGTERM, SIGINT, SIGHUP]) {
        if signal == SIGHUP {
            logger.info("signal received", metadata: ["signal": "SIGHUP"])
            application.reload()
            continue
        }
        logger.info("signal received", metadata: ["signal": "\(signal == SIGTERM ? "SIGTERM" : "SIGINT")"])
        break
    }
    await application.shutdown()
    await beforeShutdown()
    try? await client.shutdown()
}

/// Loads the configuration or prints every error with its path and exits non-zero.
func loadOrExit(_ path: String) throws -> GatewayConfiguration {
    do {
        return try ConfigLoader.load(path: path, environment: Environment.current)
    } catch {
        printError("configuration \(path) is invalid:\n\(error)")
        throw ExitCode(2)
    }
}

/// Logs as CONFIG.md `logging` says: JSON lines (default) or text for humans, on standard error.
func makeLogger(_ settings: GatewayConfiguration.Logging) -> Logger {
    let level = Logger.Level(rawValue: settings.level.rawValue) ?? .info
    LoggingSystem.bootstrap { label in
        switch settings.format {
        case .json:
            return JSONLogHandler(label: label, level: level)
        case .text:
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
    return Logger(label: "krea-gateway")
}

func printError(_ text: String) {
    var stderr = StandardError()
    print(text, to: &stderr)
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        var bytes = Array(string.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
            if written < 0 { if errno == EINTR { continue } else { return } }
            bytes = bytes.dropFirst(written)
        }
    }
}

/// The process environment as a dictionary.
enum Environment {
    static var current: [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        return result
    }
}

/// Waits for a signal through Dispatch (the default action is disabled first).
enum Signals {
    /// The first of `signals` to arrive.
    static func first(of signals: [Int32]) async -> Int32 {
        for await signal in stream(of: signals) { return signal }
        return signals.first ?? SIGTERM
    }

    /// Every arrival of any of `signals` (their default actions are disabled while listening).
    static func stream(of signals: [Int32]) -> AsyncStream<Int32> {
        AsyncStream { continuation in
            let queue = DispatchQueue(label: "krea-gateway.signals")
            let listener = SignalListener(continuation)
            for number in signals {
                Glibc.signal(number, SIG_IGN)
                listener.listen(to: number, on: queue)
            }
            continuation.onTermination = { _ in listener.cancel() }
        }
    }
}

/// Keeps the signal sources alive while the stream is consumed.
final class SignalListener: Sendable {
    private let continuation: AsyncStream<Int32>.Continuation
    private let sources = Mutex<[any DispatchSourceSignal]>([])

    init(_ continuation: AsyncStream<Int32>.Continuation) { self.continuation = continuation }

    func listen(to number: Int32, on queue: DispatchQueue) {
        sources.withLock { sources in
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { [continuation] in continuation.yield(number) }
            source.resume()
            sources.append(source)
        }
    }

    func cancel() {
        sources.withLock { sources in
            for source in sources { source.cancel() }
            sources.removeAll()
        }
    }
}
