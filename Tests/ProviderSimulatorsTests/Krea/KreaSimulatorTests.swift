import Foundation
import HTTPServer
import Testing
@testable import ProviderSimulators

@Suite("KreaSimulator over real sockets", .timeLimit(.minutes(1)))
struct KreaSimulatorTests {
    static let medium = "/generate/image/krea/krea-2/medium"

    @Test func auth_MissingOrWrongTokenIs401WithErrorString() async throws {
        try await withKrea { simulator, base in
            let missing = try await call("POST", base + Self.medium, body: kreaBody("a cat"), token: nil)
            let wrong = try await call("POST", base + Self.medium, body: kreaBody("a cat"), token: "nope")
            let read = try await call("GET", base + "/jobs/whatever", token: "nope")
            let statuses: [Int] = [missing.status, wrong.status, read.status]
            #expect(statuses == [401, 401, 401])
            #expect(missing.json?["error"] is String)
            #expect(simulator.retainedJobCount == 0)
        }
    }

    @Test func submit_UnknownModelPathIs404() async throws {
        try await withKrea { _, base in
            let reply = try await call("POST", base + "/generate/image/krea/krea-2/huge", body: kreaBody("a cat"))
            #expect(reply.status == 404)
            #expect(reply.json?["error"] is String)
        }
    }

    @Test func submit_UnknownKeyAndBadJSONAre400WithError() async throws {
        try await withKrea { simulator, base in
            let unknown = try await call("POST", base + Self.medium, body: kreaBody("a cat", extra: "\"aspectRatio\": \"1:1\""))
            #expect(unknown.status == 400)
            #expect((unknown.json?["error"] as? String)?.contains("aspectRatio") == true)
            let broken = try await call("POST", base + Self.medium, body: "{\"prompt\": ")
            #expect(broken.status == 400)
            #expect(broken.json?["error"] is String)
            let notObject = try await call("POST", base + Self.medium, body: "[1]")
            #expect(notObject.status == 400)
            #expect(simulator.retainedJobCount == 0)
        }
    }

    /// Each body breaks one rule of the table in PROVIDERS.md §Krea; 422 answers use `message`.
    @Test(arguments: [
        "{\"prompt\": \"x\", \"aspect_ratio\": \"5:7\", \"resolution\": \"1K\"}",
        "{\"prompt\": \"x\", \"aspect_ratio\": \"1:1\", \"resolution\": \"2K\"}",
        "{\"prompt\": \"x\", \"resolution\": \"1K\"}",
        "{\"aspect_ratio\": \"1:1\", \"resolution\": \"1K\"}",
        kreaBody("x", extra: "\"seed\": -1"),
        kreaBody("x", extra: "\"seed\": 2147483648"),
        kreaBody("x", extra: "\"seed\": 1.5"),
        kreaBody("x", extra: "\"creativity\": \"wild\""),
        kreaBody("x", extra: "\"intensity\": 101"),
        kreaBody("x", extra: "\"complexity\": -101"),
        kreaBody("x", extra: "\"movement\": \"5\""),
        kreaBody("x", extra: "\"image_style_references\": [{\"url\": \"https://a/b.png\", \"strength\": 2.01}]"),
        kreaBody("x", extra: "\"image_style_references\": [{\"url\": \"https://a/\(String(repeating: "b", count: 1020))\", \"strength\": 1}]"),
        kreaBody("x", extra: "\"image_style_references\": [" + Array(repeating: "{\"url\": \"https://a/b.png\", \"strength\": 1}", count: 11).joined(separator: ",") + "]"),
        kreaBody("x", extra: "\"moodboards\": [{\"id\": \"9b2f7c1e-4a8d-4f7e-9a43-7c0c4f3e2b11\", \"strength\": 1.6}]"),
        kreaBody("x", extra: "\"moodboards\": [{\"id\": \"9b2f7c1e-4a8d-4f7e-9a43-7c0c4f3e2b11\", \"strength\": 1}, {\"id\": \"9b2f7c1e-4a8d-4f7e-9a43-7c0c4f3e2b12\", \"strength\": 1}]"),
        kreaBody("x", extra: "\"moodboards\": [{\"id\": \"not-a-uuid\", \"strength\": 1}]"),
        kreaBody("x", extra: "\"styles\": [{\"id\": \"s1\"}]"),
        kreaBody("x", extra: "\"styles\": [{\"id\": \"s1\", \"strength\": -2.5}]"),
    ])
    func submit_OutOfRangeIs422WithMessage(body: String) async throws {
        try await withKrea { simulator, base in
            let reply = try await call("POST", base + Self.medium, body: body)
            #expect(reply.status == 422, "\(body) → \(reply.text)")
            #expect(reply.json?["message"] is String)
            #expect(reply.json?["error"] == nil)
            #expect(simulator.retainedJobCount == 0)
        }
    }

    @Test func submit_EdgeValuesAreAccepted() async throws {
        try await withKrea { _, base in
            let body = kreaBody("x", extra: """
                "seed": 2147483647, "creativity": "raw", "intensity": -100, "complexity": 100, "movement": 0,
                "image_style_references": [{"url": "data:image/png;base64,AAAA", "strength": -2}],
                "moodboards": [{"id": "9b2f7c1e-4a8d-4f7e-9a43-7c0c4f3e2b11", "strength": -0.5}],
                "styles": [{"id": "s1", "strength": 2}]
                """)
            let reply = try await call("POST", base + "/generate/image/krea/krea-2/large", body: body)
            #expect(reply.status == 200, "\(reply.text)")
        }
    }

    @Test func job_DefaultProgressesToCompletedByGet() async throws {
        // Steps long enough that a poll every few milliseconds sees each status even on a busy machine.
        try await withKrea(testConfiguration(stepDelay: .milliseconds(400))) { simulator, base in
            let submitted = try await call("POST", base + Self.medium, body: kreaBody("a cat"))
            #expect(submitted.status == 200)
            #expect(submitted.keyOrder == ["job_id", "status", "created_at", "completed_at", "result"])
            let json = try #require(submitted.json)
            let id = try #require(json["job_id"] as? String)
            #expect(UUID(uuidString: id) != nil)
            #expect(json["status"] as? String == "queued")
            #expect(json["completed_at"] is NSNull && json["result"] is NSNull)
            #expect((json["created_at"] as? String)?.hasSuffix("Z") == true)

            let statuses = try await observeStatuses(base + "/jobs/\(id)", terminal: ["completed", "failed", "cancelled"])
            // Every status is checked deterministically in LifecycleTests; over sockets a loaded
            // machine may skip one between two polls, but never reorder them.
            #expect(isInOrder(statuses, of: ["queued", "processing", "sampling", "completed"]) && statuses.last == "completed")
            let final = try #require(try await call("GET", base + "/jobs/\(id)").json)
            #expect(final["completed_at"] is String)
            let urls = try #require((final["result"] as? [String: Any])?["urls"] as? [String])
            #expect(urls.count == 1 && urls[0].hasPrefix("https://gen.krea.ai/images/") && urls[0].hasSuffix(".png"))
            #expect(simulator.job(id: id)?["status"] as? String == "completed")
        }
    }

    @Test func job_AllStatusesMarkerWalksEveryNonTerminalStatus() async throws {
        try await withKrea(testConfiguration(stepDelay: .milliseconds(400))) { _, base in
            let id = try #require(try await call("POST", base + Self.medium, body: kreaBody("x [sim:allstatuses]")).json?["job_id"] as? String)
            let statuses = try await observeStatuses(base + "/jobs/\(id)", terminal: ["completed", "failed", "cancelled"])
            #expect(isInOrder(statuses, of: ["backlogged", "queued", "scheduled", "processing", "sampling", "intermediate-complete", "completed"])
                    && statuses.last == "completed" && statuses.count >= 4)
        }
    }

    @Test func job_FailureMarkersShapeResultError() async throws {
        try await withKrea(testConfiguration(stepDelay: .milliseconds(5))) { simulator, base in
            var ids: [String: String] = [:]
            for prompt in ["[sim:fail]", "[sim:fail][sim:errobj]", "[sim:policy]"] {
                ids[prompt] = try #require(try await call("POST", base + Self.medium, body: kreaBody(prompt)).json?["job_id"] as? String)
            }
            #expect(await eventually { ids.values.allSatisfy { simulator.job(id: $0)?["status"] as? String == "failed" } })
            let plain = try #require(try await call("GET", base + "/jobs/\(ids["[sim:fail]"]!)").json)
            #expect(plain["completed_at"] is String)
            #expect((plain["result"] as? [String: Any])?["error"] as? String == "generation failed")
            let object = try #require(try await call("GET", base + "/jobs/\(ids["[sim:fail][sim:errobj]"]!)").json)
            let error = try #require((object["result"] as? [String: Any])?["error"] as? [String: Any])
            #expect(error["code"] as? String == "generation_failed" && error["message"] is String)
            let policy = try #require(try await call("GET", base + "/jobs/\(ids["[sim:policy]"]!)").json)
            #expect(((policy["result"] as? [String: Any])?["error"] as? String)?.contains("content policy") == true)
        }
    }

    @Test func job_NeverMarkerStaysProcessing() async throws {
        try await withKrea(testConfiguration(stepDelay: .milliseconds(5))) { _, base in
            let id = try #require(try await call("POST", base + Self.medium, body: kreaBody("[sim:never]")).json?["job_id"] as? String)
            try await Task.sleep(for: .milliseconds(100))
            let job = try #require(try await call("GET", base + "/jobs/\(id)").json)
            #expect(job["status"] as? String == "processing")
            #expect(job["completed_at"] is NSNull)
        }
    }

    @Test func delete_CancelsANonTerminalJobOnce() async throws {
        try await withKrea { simulator, base in
            let id = try #require(try await call("POST", base + Self.medium, body: kreaBody("[sim:never]")).json?["job_id"] as? String)
            let cancelled = try await call("DELETE", base + "/jobs/\(id)")
            #expect(cancelled.status == 200)
            #expect(cancelled.json?["status"] as? String == "cancelled")
            #expect(cancelled.json?["completed_at"] is String)
            #expect(try await call("GET", base + "/jobs/\(id)").json?["status"] as? String == "cancelled")
            let again = try await call("DELETE", base + "/jobs/\(id)")
            #expect(again.status == 400)
            #expect(again.json?["error"] as? String == "job is not cancellable")
            let unknown = try await call("DELETE", base + "/jobs/\(UUID().uuidString.lowercased())")
            #expect(unknown.status == 404)
            #expect(unknown.json?["error"] as? String == "job not found")
            #expect(try await call("DELETE", base + "/jobs/\(id)", token: nil).status == 401)
            #expect(simulator.job(id: id)?["status"] as? String == "cancelled")
        }
    }

    @Test func delete_CompletedJobIsNotCancellable() async throws {
        try await withKrea(testConfiguration(stepDelay: .milliseconds(2))) { simulator, base in
            let id = try #require(try await call("POST", base + Self.medium, body: kreaBody("x")).json?["job_id"] as? String)
            #expect(await eventually { simulator.job(id: id)?["status"] as? String == "completed" })
            #expect(try await call("DELETE", base + "/jobs/\(id)").status == 400)
        }
    }

    @Test func get_UnknownJobIs404() async throws {
        try await withKrea { _, base in
            let reply = try await call("GET", base + "/jobs/nope")
            #expect(reply.status == 404)
            #expect(reply.json?["error"] as? String == "job not found")
        }
    }

    @Test func markers_HTTPStatusAnswersWithoutCreatingAJob() async throws {
        try await withKrea { simulator, base in
            let unavailable = try await call("POST", base + Self.medium, body: kreaBody("x [sim:http=503]"))
            #expect(unavailable.status == 503)
            #expect(unavailable.json?["error"] as? String == "internal error")
            let limited = try await call("POST", base + Self.medium, body: kreaBody("x [sim:http=429]"))
            #expect(limited.status == 429)
            #expect(limited.json?["error"] as? String == "rate limit exceeded")
            let broke = try await call("POST", base + Self.medium, body: kreaBody("x [sim:http=402]"))
            #expect(broke.json?["error"] as? String == "insufficient balance")
            #expect(simulator.retainedJobCount == 0)
        }
    }

    @Test func markers_DelayCreatesTheJobThenAnswersLate() async throws {
        try await withKrea { simulator, base in
            // The client gives up first: the provider has a job the client never heard of.
            await #expect(throws: LoopbackHTTPClient.Failure.self) {
                _ = try await call("POST", base + Self.medium, body: kreaBody("x [sim:delay=300]"), timeout: .milliseconds(100))
            }
            #expect(simulator.retainedJobCount == 1)
            let start = ContinuousClock.now
            let late = try await call("POST", base + Self.medium, body: kreaBody("x [sim:delay=300]"))
            #expect(ContinuousClock.now - start >= .milliseconds(300))
            #expect(late.status == 200)
            let id = try #require(late.json?["job_id"] as? String)
            #expect(simulator.job(id: id) != nil)
            #expect(simulator.retainedJobCount == 2)
        }
    }

    @Test func markers_GarbageAndWrongShape() async throws {
        try await withKrea { _, base in
            let garbage = try await call("POST", base + Self.medium, body: kreaBody("x [sim:garbage]"))
            #expect(garbage.status == 200)
            #expect((try? JSONSerialization.jsonObject(with: Data(garbage.body))) == nil)
            let wrong = try await call("POST", base + Self.medium, body: kreaBody("x [sim:wrongshape]"))
            #expect(wrong.status == 200)
            #expect(wrong.json != nil && wrong.json?["job_id"] == nil)
        }
    }

    @Test func inject_NextSubmissionsFailThenRecover() async throws {
        try await withKrea { simulator, base in
            simulator.injectSubmissionFailures(status: 429, count: 2)
            var statuses: [Int] = []
            for _ in 0..<3 { statuses.append(try await call("POST", base + Self.medium, body: kreaBody("x")).status) }
            #expect(statuses == [429, 429, 200])

            let control = try await call("POST", base + "/__sim/inject", body: "{\"status\": 402, \"count\": 1}", token: nil)
            #expect(control.status == 200)
            let refused = try await call("POST", base + Self.medium, body: kreaBody("x"))
            #expect(refused.status == 402)
            #expect(refused.json?["error"] as? String == "insufficient balance")
            #expect(try await call("POST", base + Self.medium, body: kreaBody("x")).status == 200)
            #expect(try await call("POST", base + "/__sim/inject", body: "{\"status\": \"x\"}", token: nil).status == 400)
        }
    }

    @Test func received_RecordsRequestsExactlyAsSent() async throws {
        try await withKrea { simulator, base in
            let body = kreaBody("a \\\"quoted\\\" café", extra: "\"seed\": 7")
            _ = try await call("POST", base + Self.medium + "?trace=1", body: body, headers: ["X-Webhook-URL": "http://127.0.0.1:9/hook"])
            _ = try await call("GET", base + "/jobs/nope")
            _ = try await call("GET", base + "/__sim/received", token: nil)
            let received = simulator.received()
            #expect(received.count == 2)
            #expect(received[0].method == "POST" && received[0].path == Self.medium + "?trace=1")
            #expect(received[0].body == Array(body.utf8))
            #expect(received[0].headers["x-webhook-url"] == "http://127.0.0.1:9/hook")
            #expect(received[0].headers["authorization"] == "Bearer test-key")
            #expect(received[0].json?["seed"] as? Int == 7)
            #expect(received[1].method == "GET" && received[1].path == "/jobs/nope")

            let listed = try await call("GET", base + "/__sim/received", token: nil)
            let requests = try #require(listed.json?["requests"] as? [[String: Any]])
            #expect(requests.count == 2)
            #expect(requests.first?["body"] as? String == body)
            simulator.clearReceived()
            #expect(simulator.received().isEmpty)
        }
    }

    @Test func retention_OldestJobsAreForgotten() async throws {
        try await withKrea(testConfiguration { $0.maxRetainedJobs = 2 }) { simulator, base in
            var ids: [String] = []
            for _ in 0..<3 { ids.append(try #require(try await call("POST", base + Self.medium, body: kreaBody("x")).json?["job_id"] as? String)) }
            #expect(simulator.retainedJobCount == 2)
            #expect(try await call("GET", base + "/jobs/\(ids[0])").status == 404)
            #expect(try await call("GET", base + "/jobs/\(ids[2])").status == 200)
        }
    }
}
