import Foundation
import HTTPServer
import Testing
@testable import ProviderSimulators

/// `X-Webhook-URL`: Krea POSTs the full job object when it becomes terminal, at least once.
@Suite("KreaSimulator callbacks", .timeLimit(.minutes(1)))
struct KreaCallbackTests {
    @Test func callback_WebhookReceivesTheTerminalJobCallbackCopiesTimes() async throws {
        let receiver = try CallbackReceiver()
        try await withKrea { simulator, base in
            let submitted = try await call("POST", base + KreaSimulatorTests.medium, body: kreaBody("x"), headers: ["X-Webhook-URL": receiver.url])
            let id = try #require(submitted.json?["job_id"] as? String)
            #expect(await eventually { receiver.received.count >= 2 })
            try await Task.sleep(for: .milliseconds(50))
            #expect(receiver.received.count == 2)
            let current = try await call("GET", base + "/jobs/\(id)")
            for body in receiver.received { #expect(body == current.body) }
            #expect(receiver.receivedJSON.allSatisfy { $0["job_id"] as? String == id && $0["status"] as? String == "completed" })
            let attempts = simulator.callbackAttempts()
            #expect(attempts.map(\.copy) == [1, 2])
            #expect(attempts.allSatisfy { $0.status == 200 && $0.jobID == id && $0.url == receiver.url })
        }
        await receiver.shutdown()
    }

    @Test func callback_CancelCallsBackOnceWithCancelledAndNotAgainAtTheNaturalEnd() async throws {
        let receiver = try CallbackReceiver()
        try await withKrea(testConfiguration(stepDelay: .milliseconds(1000))) { _, base in
            let submitted = try await call("POST", base + KreaSimulatorTests.medium, body: kreaBody("x"), headers: ["X-Webhook-URL": receiver.url])
            let id = try #require(submitted.json?["job_id"] as? String)
            let start = ContinuousClock.now
            #expect(try await call("DELETE", base + "/jobs/\(id)").status == 200)
            #expect(await eventually { receiver.received.count >= 2 })
            // Past the natural end (3 steps) plus a margin: no second pair of callbacks.
            try await Task.sleep(until: start + .milliseconds(3500))
            #expect(receiver.received.count == 2)
            #expect(receiver.receivedJSON.allSatisfy { $0["status"] as? String == "cancelled" })
        }
        await receiver.shutdown()
    }

    @Test func callback_NoCallbackMarkerSendsNothing() async throws {
        let receiver = try CallbackReceiver()
        try await withKrea(testConfiguration(stepDelay: .milliseconds(2))) { simulator, base in
            let id = try #require(try await call("POST", base + KreaSimulatorTests.medium, body: kreaBody("x [sim:nocallback]"),
                                                 headers: ["X-Webhook-URL": receiver.url]).json?["job_id"] as? String)
            #expect(await eventually { simulator.job(id: id)?["status"] as? String == "completed" })
            try await Task.sleep(for: .milliseconds(60))
            #expect(receiver.received.isEmpty)
            #expect(simulator.callbackAttempts().isEmpty)
        }
        await receiver.shutdown()
    }
}
