import AsyncHTTPClient
import Foundation
import NIOHTTP1
import Testing
@testable import GatewayApp

@Suite("JSON logs", .serialized)
struct JSONLogTests {
    @Test func logs_AreJSONLinesWithoutKeysSecretsOrPrompts() async throws {
        let sink = LineSink.collecting()
        let prompt = "a very private prompt about a secret launch"
        let harness = try await GatewayHarness(extraYAML: WebhookTests.webhooksYAML, logSink: sink)
        do {
            let created = try await harness.generate(#"{"model":"krea-2-medium","prompt":"\#(prompt)","webhook_url":"http://127.0.0.1:9/x"}"#)
            _ = try await harness.waitTerminal(try #require(created.json["id"] as? String))
            _ = try await harness.generate(#"{"model":"krea-2-medium","prompt":"\#(prompt) [sim:http=500]"}"#)
            try await Task.sleep(for: .milliseconds(300))
        } catch { Issue.record(error) }
        await harness.stop()
        let lines = sink.lines
        #expect(lines.count >= 4)  // listening, submission failed, job finished, webhook attempt, shutdown …
        for line in lines {
            #expect(line.hasSuffix("}\n"))
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["ts"] is String && object?["level"] is String && object?["message"] is String, "\(line)")
            for secret in [GatewayHarness.keyA, GatewayHarness.masterKey, "sim-krea-key", "sim-evolink-key", WebhookTests.secret, prompt] {
                #expect(!line.contains(secret), "a log line leaks \(secret)")
            }
        }
        #expect(lines.contains { $0.contains("\"message\":\"submission failed\"") && $0.contains("\"provider\":\"krea\"") })
        #expect(lines.contains { $0.contains("\"message\":\"job finished\"") })
    }

    @Test func metadataValues_AreEscapedJSON() throws {
        let line = JSONLogHandler.json(.dictionary(["b": .array([.string("x\"y\n")]), "a": .stringConvertible(42)]))
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        #expect(object?["a"] as? String == "42")
        #expect((object?["b"] as? [String]) == ["x\"y\n"])
    }
}
