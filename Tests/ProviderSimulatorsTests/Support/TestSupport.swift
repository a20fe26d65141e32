import Foundation
import HTTPServer
@testable import ProviderSimulators
import Synchronization

/// Runs blocking socket work on a thread of its own, never on the cooperative pool.
func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}

/// An answer as a test sees it.
struct Reply: Sendable {
    let status: Int
    let headers: HTTPHeaders
    let body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }
    var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] }
    /// The top-level keys of a JSON object body, in the order they were written.
    var keyOrder: [String] { topLevelKeys(text) }
}

/// One request over a real socket (the simulators' own loopback client, run on a thread).
func call(
    _ method: String, _ url: String, body: String? = nil, token: String? = "test-key",
    headers: HTTPHeaders = HTTPHeaders(), timeout: Duration = .seconds(5)
) async throws -> Reply {
    var headers = headers
    if let token { headers.add(name: "Authorization", value: "Bearer \(token)") }
    if body != nil { headers.add(name: "Content-Type", value: "application/json") }
    let bytes = Array((body ?? "").utf8)
    let sent = headers
    let response = try await blocking {
        try LoopbackHTTPClient.send(method: method, url: url, headers: sent, body: bytes, timeout: timeout)
    }
    return Reply(status: response.status, headers: response.headers, body: response.body)
}

/// Polls `condition` every 5 ms until it holds or `timeout` passes; returns whether it held.
func eventually(timeout: Duration = .seconds(3), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return try await condition()
}

/// Test configuration: short steps, callbacks allowed on loopback.
func testConfiguration(stepDelay: Duration = .milliseconds(20), _ configure: (inout SimulatorConfiguration) -> Void = { _ in }) -> SimulatorConfiguration {
    var configuration = SimulatorConfiguration(apiKey: "test-key", stepDelay: stepDelay, enforceCallbackURLPolicy: false, callbackTimeout: .seconds(2))
    configure(&configuration)
    return configuration
}

/// Runs `body` against a started Krea simulator and always shuts it down.
func withKrea(_ configuration: SimulatorConfiguration = testConfiguration(), _ body: (KreaSimulator, String) async throws -> Void) async throws {
    let simulator = KreaSimulator(configuration: configuration)
    let base = try simulator.start()
    do { try await body(simulator, base) } catch { await simulator.shutdown(); throw error }
    await simulator.shutdown()
}

/// Runs `body` against a started Evolink simulator and always shuts it down.
func withEvolink(_ configuration: SimulatorConfiguration = testConfiguration(), _ body: (EvolinkSimulator, String) async throws -> Void) async throws {
    let simulator = EvolinkSimulator(configuration: configuration)
    let base = try simulator.start()
    do { try await body(simulator, base) } catch { await simulator.shutdown(); throw error }
    await simulator.shutdown()
}

/// A tiny server standing in for the gateway's callback endpoint: records every POST body.
final class CallbackReceiver: Sendable {
    private let server: HTTPServer
    private final class Bodies: Sendable { let list = Mutex<[[UInt8]]>([]) }
    private let bodies = Bodies()
    let url: String

    init(status: Int = 200) throws {
        let bodies = bodies
        var router = Router()
        router.add("POST", "/hook/{name}") { request in
            bodies.list.withLock { $0.append(request.body) }
            return HTTPResponse(status: status, body: "ok")
        }
        server = HTTPServer(configuration: .init(host: "127.0.0.1", port: 0, shutdownGrace: .seconds(1)), handler: router.handler)
        url = "http://127.0.0.1:\(try server.start().port)/hook/test"
    }

    var received: [[UInt8]] { bodies.list.withLock { $0 } }
    var receivedJSON: [[String: Any]] { received.compactMap { (try? JSONSerialization.jsonObject(with: Data($0))) as? [String: Any] } }

    func shutdown() async { await server.shutdown() }
}

/// The top-level member names of a JSON object text, in order (a tiny scanner; enough for tests).
func topLevelKeys(_ text: String) -> [String] {
    var keys: [String] = []
    var depth = 0
    var inString = false
    var escaped = false
    var current = ""
    var lastString: String?
    for character in text {
        if inString {
            if escaped { escaped = false; current.append(character) }
            else if character == "\\" { escaped = true }
            else if character == "\"" { inString = false; lastString = current }
            else { current.append(character) }
            continue
        }
        switch character {
        case "\"": inString = true; current = ""
        case "{", "[": depth += 1; lastString = nil
        case "}", "]": depth -= 1; lastString = nil
        case ":":
            if depth == 1, let key = lastString { keys.append(key) }
            lastString = nil
        case ",": lastString = nil
        default: break
        }
    }
    return keys
}

/// Polls `GET url` and returns the distinct successive values of `status` until one is in
/// `terminal` or the timeout passes.
func observeStatuses(_ url: String, terminal: Set<String>, timeout: Duration = .seconds(4)) async throws -> [String] {
    var seen: [String] = []
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        let reply = try await call("GET", url)
        guard let status = reply.json?["status"] as? String else { break }
        if seen.last != status { seen.append(status) }
        if terminal.contains(status) { break }
        try await Task.sleep(for: .milliseconds(3))
    }
    return seen
}

/// A valid Krea body around a prompt (the Decisions: aspect_ratio and resolution always sent).
func kreaBody(_ prompt: String, extra: String = "") -> String {
    "{\"prompt\": \"\(prompt)\", \"aspect_ratio\": \"1:1\", \"resolution\": \"1K\"\(extra.isEmpty ? "" : ", " + extra)}"
}

/// A valid Evolink body around a prompt.
func evolinkBody(_ prompt: String, extra: String = "") -> String {
    "{\"model\": \"krea-2-turbo\", \"prompt\": \"\(prompt)\"\(extra.isEmpty ? "" : ", " + extra)}"
}
