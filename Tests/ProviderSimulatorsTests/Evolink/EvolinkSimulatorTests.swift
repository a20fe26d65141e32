import Foundation
import HTTPServer
import Testing
@testable import ProviderSimulators

@Suite("EvolinkSimulator over real sockets", .timeLimit(.minutes(1)))
struct EvolinkSimulatorTests {
    static let generations = "/v1/images/generations"

    static func error(_ reply: Reply) -> [String: Any]? { reply.json?["error"] as? [String: Any] }

    @Test func auth_MissingOrWrongKeyIs401InEvolinkShape() async throws {
        try await withEvolink { simulator, base in
            let wrong = try await call("POST", base + Self.generations, body: evolinkBody("x"), token: "nope")
            #expect(wrong.status == 401)
            #expect(Self.error(wrong)?["code"] as? String == "unauthorized")
            #expect(Self.error(wrong)?["message"] is String && Self.error(wrong)?["type"] is String)
            #expect(try await call("GET", base + "/v1/tasks/x", token: nil).status == 401)
            #expect(simulator.retainedJobCount == 0)
        }
    }

    @Test func submit_AnswersExactlyTheDocumentedShape() async throws {
        try await withEvolink { _, base in
            let before = Int(Date().timeIntervalSince1970)
            let reply = try await call("POST", base + Self.generations, body: evolinkBody("a cat"))
            #expect(reply.status == 200)
            #expect(reply.keyOrder == ["created", "id", "model", "object", "progress", "status", "task_info", "type", "usage"])
            let json = try #require(reply.json)
            let created = try #require(json["created"] as? Int)
            #expect(created >= before && created <= before + 2)
            let id = try #require(json["id"] as? String)
            #expect(id.wholeMatch(of: /task-unified-(\d+)-[a-z0-9]{8}/)?.1 == Substring(String(created)))
            #expect(json["model"] as? String == "krea-2-turbo")
            #expect(json["object"] as? String == "image.generation.task")
            #expect(json["progress"] as? Int == 0)
            #expect(json["status"] as? String == "pending")
            let info = try #require(json["task_info"] as? [String: Any])
            #expect(info["can_cancel"] as? Bool == false && info["estimated_time"] as? Int == 45)
            #expect(json["type"] as? String == "image")
            let usage = try #require(json["usage"] as? [String: Any])
            #expect(usage["billing_rule"] as? String == "per_call")
            #expect((usage["credits_reserved"] as? NSNumber)?.doubleValue == 0.45)
            #expect(usage["user_group"] as? String == "default")
            #expect(reply.text.contains("\"credits_reserved\":0.45"))

            let twoK = try await call("POST", base + Self.generations, body: evolinkBody("a cat", extra: "\"quality\": \"2K\""))
            #expect(twoK.text.contains("\"credits_reserved\":1.8"))
        }
    }

    @Test func task_LifecycleByGet() async throws {
        try await withEvolink(testConfiguration(stepDelay: .milliseconds(500))) { simulator, base in
            let id = try #require(try await call("POST", base + Self.generations, body: evolinkBody("x")).json?["id"] as? String)
            var progress: [String: Int] = [:]
            var seen: [String] = []
            let deadline = ContinuousClock.now + .seconds(4)
            while ContinuousClock.now < deadline {
                let json = try #require(try await call("GET", base + "/v1/tasks/\(id)").json)
                let status = try #require(json["status"] as? String)
                progress[status] = json["progress"] as? Int
                if seen.last != status { seen.append(status) }
                if status == "completed" { break }
                try await Task.sleep(for: .milliseconds(3))
            }
            #expect(isInOrder(seen, of: ["pending", "processing", "completed"]) && seen.last == "completed")
            for (status, expected) in ["pending": 0, "processing": 50, "completed": 100] where progress[status] != nil {
                #expect(progress[status] == expected)
            }
            let done = try await call("GET", base + "/v1/tasks/\(id)")
            #expect(done.keyOrder == ["created", "id", "model", "object", "progress", "status", "results", "task_info", "type"])
            let results = try #require(done.json?["results"] as? [String])
            #expect(results.count == 1 && results[0].hasPrefix("https://"))
            #expect(done.json?["usage"] == nil)
            #expect(simulator.job(id: id)?["status"] as? String == "completed")
        }
    }

    @Test func task_FailureMarkersCarryTaskErrors() async throws {
        try await withEvolink(testConfiguration(stepDelay: .milliseconds(5))) { simulator, base in
            let expected = ["[sim:fail]": "generation_failed_no_content", "[sim:policy]": "content_policy_violation", "[sim:cancelled]": "request_cancelled"]
            var ids: [String: String] = [:]
            for prompt in expected.keys {
                ids[prompt] = try #require(try await call("POST", base + Self.generations, body: evolinkBody(prompt)).json?["id"] as? String)
            }
            #expect(await eventually { ids.values.allSatisfy { simulator.job(id: $0)?["status"] as? String == "failed" } })
            for (prompt, code) in expected {
                let reply = try await call("GET", base + "/v1/tasks/\(ids[prompt]!)")
                #expect(reply.keyOrder == ["created", "id", "model", "object", "progress", "status", "error", "task_info", "type"])
                let error = try #require(Self.error(reply))
                #expect(error["code"] as? String == code)
                #expect(error["type"] as? String == "task_error" && error["message"] is String)
                #expect(reply.json?["results"] == nil)
            }
        }
    }

    @Test func task_NeverMarkerStaysProcessing() async throws {
        try await withEvolink(testConfiguration(stepDelay: .milliseconds(5))) { _, base in
            let id = try #require(try await call("POST", base + Self.generations, body: evolinkBody("[sim:never]")).json?["id"] as? String)
            try await Task.sleep(for: .milliseconds(80))
            #expect(try await call("GET", base + "/v1/tasks/\(id)").json?["status"] as? String == "processing")
        }
    }

    @Test func get_UnknownTaskIs404TaskNotFound() async throws {
        try await withEvolink { _, base in
            let reply = try await call("GET", base + "/v1/tasks/task-unified-1-abcdefgh")
            #expect(reply.status == 404)
            #expect(Self.error(reply)?["code"] as? String == "task_not_found")
        }
    }

    /// Each body breaks one rule of PROVIDERS.md §Evolink.
    @Test(arguments: [
        ("{\"model\": \"krea-2-turbo\"}", 400, "invalid_request"),
        ("{\"prompt\": \"x\"}", 400, "invalid_request"),
        ("{\"model\": \"gpt-image-1\", \"prompt\": \"x\"}", 403, "model_access_denied"),
        ("not json", 400, "invalid_request"),
        (evolinkBody("x", extra: "\"size\": \"7:3\""), 400, "invalid_request"),
        (evolinkBody("x", extra: "\"quality\": \"4K\""), 400, "invalid_request"),
        (evolinkBody("x", extra: "\"seed\": 1048577"), 400, "invalid_request"),
        (evolinkBody("x", extra: "\"seed\": -1"), 400, "invalid_request"),
        (evolinkBody("x", extra: "\"nsfw_check\": \"yes\""), 400, "invalid_request"),
        (evolinkBody("x", extra: "\"callback_url\": \"https://example.com/\(String(repeating: "a", count: 2040))\""), 400, "invalid_request"),
    ])
    func submit_InvalidBodiesAreRefused(body: String, status: Int, code: String) async throws {
        try await withEvolink { simulator, base in
            let reply = try await call("POST", base + Self.generations, body: body)
            #expect(reply.status == status, "\(body) → \(reply.text)")
            #expect(Self.error(reply)?["code"] as? String == code)
            #expect(simulator.retainedJobCount == 0)
        }
    }

    @Test func submit_CallbackURLPolicyWhenEnforced() async throws {
        try await withEvolink(testConfiguration { $0.enforceCallbackURLPolicy = true }) { _, base in
            for url in ["http://example.com/hook", "https://127.0.0.1/hook", "https://10.1.2.3/hook", "https://localhost/hook", "https://[::1]/hook"] {
                let reply = try await call("POST", base + Self.generations, body: evolinkBody("x", extra: "\"callback_url\": \"\(url)\""))
                #expect(reply.status == 400, "\(url)")
                #expect(Self.error(reply)?["code"] as? String == "invalid_request")
            }
            let fine = try await call("POST", base + Self.generations, body: evolinkBody("x", extra: "\"callback_url\": \"https://hooks.example.com/evolink\""))
            #expect(fine.status == 200)
        }
    }

    @Test func submit_UnknownFieldsAndEdgeValuesAreAccepted() async throws {
        try await withEvolink { _, base in
            let reply = try await call("POST", base + Self.generations, body: evolinkBody("x", extra: """
                "size": "2:1", "quality": "1K", "seed": 1048576, "nsfw_check": true, "n": 1, "style": "whatever"
                """))
            #expect(reply.status == 200, "\(reply.text)")
        }
    }

    @Test func markers_HTTPStatusAndIntegerCodes() async throws {
        try await withEvolink { simulator, base in
            let unavailable = try await call("POST", base + Self.generations, body: evolinkBody("x [sim:http=503]"))
            #expect(unavailable.status == 503)
            #expect(Self.error(unavailable)?["code"] as? String == "service_unavailable")
            let limited = try await call("POST", base + Self.generations, body: evolinkBody("x [sim:http=429][sim:intcode]"))
            #expect(limited.status == 429)
            #expect(Self.error(limited)?["code"] as? Int == 429)
            #expect(limited.text.contains("\"code\":429"))
            let invalid = try await call("POST", base + Self.generations, body: evolinkBody("x [sim:intcode]", extra: "\"size\": \"0:0\""))
            #expect(Self.error(invalid)?["code"] as? Int == 400)
            #expect(simulator.retainedJobCount == 0)
        }
    }

    @Test func markers_DelayGarbageWrongShape() async throws {
        try await withEvolink { simulator, base in
            await #expect(throws: LoopbackHTTPClient.Failure.self) {
                _ = try await call("POST", base + Self.generations, body: evolinkBody("x [sim:delay=300]"), timeout: .milliseconds(100))
            }
            #expect(simulator.retainedJobCount == 1)
            let garbage = try await call("POST", base + Self.generations, body: evolinkBody("x [sim:garbage]"))
            #expect(garbage.status == 200 && garbage.json == nil)
            let wrong = try await call("POST", base + Self.generations, body: evolinkBody("x [sim:wrongshape]"))
            #expect(wrong.status == 200 && wrong.json != nil && wrong.json?["id"] == nil)
            #expect(simulator.retainedJobCount == 1)
        }
    }

    @Test func inject_NextSubmissionsFail() async throws {
        try await withEvolink { simulator, base in
            simulator.injectSubmissionFailures(status: 503, count: 1)
            let first = try await call("POST", base + Self.generations, body: evolinkBody("x"))
            #expect(first.status == 503)
            #expect(Self.error(first)?["code"] as? String == "service_unavailable")
            #expect(try await call("POST", base + Self.generations, body: evolinkBody("x")).status == 200)
            _ = try await call("POST", base + "/__sim/inject", body: "{\"status\": 402, \"count\": 1}", token: nil)
            let broke = try await call("POST", base + Self.generations, body: evolinkBody("x"))
            #expect(broke.status == 402 && Self.error(broke)?["code"] as? String == "insufficient_quota")
        }
    }

    @Test func callback_ReceivesTheTaskQueryBodyCallbackCopiesTimes() async throws {
        let receiver = try CallbackReceiver()
        try await withEvolink(testConfiguration { $0.callbackCopies = 3 }) { simulator, base in
            let body = evolinkBody("x", extra: "\"callback_url\": \"\(receiver.url)\"")
            let id = try #require(try await call("POST", base + Self.generations, body: body).json?["id"] as? String)
            #expect(await eventually { receiver.received.count >= 3 })
            try await Task.sleep(for: .milliseconds(50))
            #expect(receiver.received.count == 3)
            let query = try await call("GET", base + "/v1/tasks/\(id)")
            #expect(query.json?["status"] as? String == "completed")
            for received in receiver.received { #expect(received == query.body) }
            #expect(simulator.callbackAttempts().allSatisfy { $0.succeeded })
            #expect(simulator.received().first?.body == Array(body.utf8))

            let listed = try await call("GET", base + "/__sim/callbacks", token: nil)
            #expect((listed.json?["attempts"] as? [[String: Any]])?.count == 3)
        }
        await receiver.shutdown()
    }

    @Test func callback_FailedTaskCallsBackWithItsError() async throws {
        let receiver = try CallbackReceiver()
        try await withEvolink { _, base in
            _ = try await call("POST", base + Self.generations, body: evolinkBody("[sim:policy]", extra: "\"callback_url\": \"\(receiver.url)\""))
            #expect(await eventually { receiver.received.count >= 2 })
            let error = receiver.receivedJSON.first?["error"] as? [String: Any]
            #expect(error?["code"] as? String == "content_policy_violation")
        }
        await receiver.shutdown()
    }

    @Test func callback_UnreachableReceiverIsRecordedAsAnError() async throws {
        try await withEvolink(testConfiguration(stepDelay: .milliseconds(2))) { simulator, base in
            // Port 9 (discard) on loopback: nothing listens, the connect is refused.
            _ = try await call("POST", base + Self.generations, body: evolinkBody("x", extra: "\"callback_url\": \"http://127.0.0.1:9/hook\""))
            #expect(await eventually { simulator.callbackAttempts().count == 2 })
            #expect(simulator.callbackAttempts().allSatisfy { $0.status == nil && $0.error?.hasPrefix("connect_failed") == true })
        }
    }
}
