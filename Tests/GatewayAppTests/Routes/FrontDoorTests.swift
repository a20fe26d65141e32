import AsyncHTTPClient
import Foundation
import GatewayCore
import NIOCore
import NIOHTTP1
import Synchronization
import Testing
@testable import GatewayApp

/// `Prefer: wait` and `Idempotency-Key` (API.md §3), over real sockets.
@Suite("Prefer: wait and Idempotency-Key")
struct FrontDoorTests {
    @Test func preferWaitAnswers200WhenTheJobEndsInTimeAnd202WhenItDoesNot() async throws {
        let harness = try await GatewayHarness(stepDelay: .milliseconds(40))
        let done = try await harness.generate(#"{"model":"krea-2-medium","prompt":"quick"}"#, headers: [("Prefer", "wait=10")])
        #expect(done.status == 200)
        #expect(done.json["status"] as? String == "completed")
        #expect((done.json["result"] as? [String: Any])?["urls"] != nil)
        #expect(done.header("Preference-Applied") == "wait=10")

        let start = ContinuousClock.now
        let running = try await harness.generate(#"{"model":"krea-2-medium","prompt":"slow [sim:never]"}"#, headers: [("Prefer", "wait=1")])
        let waited = ContinuousClock.now - start
        #expect(running.status == 202)
        #expect(["queued", "running"].contains(running.json["status"] as? String ?? ""))
        #expect(waited >= .milliseconds(950) && waited < .seconds(15), "\(waited)")

        // GET waits too, and always answers 200.
        let id = try #require(running.json["id"] as? String)
        let read = try await harness.send(.GET, "/v1/generations/\(id)", headers: [("Prefer", "wait=1")])
        #expect(read.status == 200 && read.header("Preference-Applied") == "wait=1")
        for bad in ["wait=0", "wait=61", "wait=soon"] {
            let refused = try await harness.generate(#"{"model":"krea-2-medium","prompt":"x"}"#, headers: [("Prefer", bad)])
            #expect(refused.status == 400 && refused.error["param"] as? String == "Prefer", "\(bad)")
        }
        #expect(try await harness.generate(#"{"model":"krea-2-medium","prompt":"x"}"#, headers: [("Prefer", "respond-async")]).status == 202)
        await harness.stop()
    }

    /// Many clients waiting on one job are all answered when it ends, without a thread each. (The
    /// 2,000-client run, with the gateway's own threads and RSS, is `Tests/peer/ops_peer.py`
    /// against the real binary; here 300, so this suite does not starve the others.)
    @Test func manyClientsWaitAtOnceOnFewThreads() async throws {
        let harness = try await GatewayHarness(stepDelay: .milliseconds(1500))
        let created = try await harness.generate(#"{"model":"krea-2-medium","prompt":"shared"}"#)
        let id = try #require(created.json["id"] as? String)
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 400
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let threadsBefore = Self.threads()
        let peak = Peak()
        let waiters = 300
        let collected: Result<[String], any Error>
        do {
            collected = .success(try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<waiters {
                group.addTask {
                    var request = HTTPClientRequest(url: harness.baseURL + "/v1/generations/\(id)")
                    request.headers.add(name: "Authorization", value: "Bearer \(GatewayHarness.keyA)")
                    request.headers.add(name: "Prefer", value: "wait=20")
                    let response = try await client.execute(request, timeout: .seconds(30))
                    let body = try await response.body.collect(upTo: 1 << 20)
                    let json = try JSONSerialization.jsonObject(with: Data(Array(buffer: body))) as? [String: Any]
                    return json?["status"] as? String ?? "?"
                }
            }
            group.addTask {
                // While they wait: sample the process (gateway and this client share it) until
                // the job ends — on a loaded machine the 300 connect over more than a second.
                let deadline = ContinuousClock.now + .seconds(20)
                while ContinuousClock.now < deadline, harness.application.jobs.job(id: id)?.status.isTerminal != true {
                    try await Task.sleep(for: .milliseconds(50))
                    let now = (Self.threads(), Self.rssKiB(), harness.application.jobs.waiterCount)
                    peak.record(threads: now.0, rssKiB: now.1, waiting: now.2)
                }
                return "sampler"
            }
            var statuses: [String] = []
            for try await status in group where status != "sampler" { statuses.append(status) }
            return statuses
            })
        } catch {
            collected = .failure(error)
        }
        try await client.shutdown()
        let statuses = try collected.get()
        let observed = peak.value
        print("Prefer: wait with \(waiters) clients: \(observed.waiting) waiting at once, \(observed.threads) threads "
              + "(\(threadsBefore) before), RSS \(observed.rssKiB / 1024) MiB (test process: gateway, simulators and client)")
        #expect(statuses.count == waiters)
        #expect(statuses.allSatisfy { $0 == "completed" })
        #expect(observed.waiting > waiters / 2, "most clients were waiting at the same moment")
        // Threads are asserted on the gateway alone in ops_peer.py: here the other suites running
        // in this process start and stop threads of their own meanwhile.
        await harness.stop()
    }

    @Test func twentyConcurrentIdenticalSubmissionsMakeOneJobAndOneReservation() async throws {
        let directory = NSTemporaryDirectory() + "kgw-idem-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let harness = try await GatewayHarness(stepDelay: .milliseconds(200), keysYAML: """
            keys:
              - {id: key-a, name: "A", key: "\(GatewayHarness.keyA)", budget: {limit_usd: "1.000", period: daily}}
              - {id: key-b, name: "B", key: "\(GatewayHarness.keyB)"}
            """, stateDirectory: directory)
        let body = #"{"model":"krea-2-medium","prompt":"once"}"#
        let replies = try await withThrowingTaskGroup(of: GatewayHarness.Reply.self) { group in
            for _ in 0..<20 { group.addTask { try await harness.generate(body, headers: [("Idempotency-Key", "order-42")]) } }
            var replies: [GatewayHarness.Reply] = []
            for try await reply in group { replies.append(reply) }
            return replies
        }
        let ids = Set(replies.compactMap { $0.json["id"] as? String })
        #expect(ids.count == 1)
        #expect(replies.filter { $0.status == 202 }.count == 1)
        #expect(replies.filter { $0.status == 200 && $0.header("Idempotent-Replayed") == "true" }.count == 19)
        #expect(harness.application.jobs.residentJobs.count == 1)
        #expect(harness.krea.received().filter { $0.method == "POST" }.count == 1)
        let usage = try await harness.send(.GET, "/v1/usage")
        let budget = try #require((usage.json["budgets"] as? [[String: Any]])?.first)
        #expect(budget["reserved_usd"] as? String == "0.030" || budget["spent_usd"] as? String == "0.030")

        // Another body under the same key: 422. Another gateway key: its own namespace.
        let reused = try await harness.generate(#"{"model":"krea-2-medium","prompt":"twice"}"#, headers: [("Idempotency-Key", "order-42")])
        #expect(reused.status == 422 && reused.error["code"] as? String == "idempotency_key_reused")
        let otherKey = try await harness.generate(body, key: GatewayHarness.keyB, headers: [("Idempotency-Key", "order-42")])
        #expect(otherKey.status == 202 && otherKey.json["id"] as? String != ids.first)
        let tooLong = try await harness.generate(body, headers: [("Idempotency-Key", String(repeating: "k", count: 256))])
        #expect(tooLong.status == 400 && tooLong.error["param"] as? String == "Idempotency-Key")

        // An error is replayed as it was (a refused request reserves nothing either way).
        let refused = try await harness.generate(#"{"model":"nope","prompt":"x"}"#, headers: [("Idempotency-Key", "bad-1")])
        let again = try await harness.generate(#"{"model":"nope","prompt":"x"}"#, headers: [("Idempotency-Key", "bad-1")])
        #expect(refused.status == 400 && again.status == 400 && again.header("Idempotent-Replayed") == "true")

        // The same body with another X-Webhook-URL is another request.
        let otherHook = try await harness.generate(body, headers: [("Idempotency-Key", "order-42"), ("X-Webhook-URL", "https://example.com/h")])
        #expect(otherHook.status == 422)
        // After a restart the key still finds its job.
        try await harness.restart()
        let afterRestart = try await harness.generate(body, headers: [("Idempotency-Key", "order-42")])
        #expect(afterRestart.status == 200 && afterRestart.json["id"] as? String == ids.first)
        #expect(harness.application.jobs.residentJobs.filter { $0.ownerKeyID == "key-a" }.count == 1)
        await harness.stop()
    }

    @Test func kreaPathsAnswerInKreaShapesAndCancel() async throws {
        let harness = try await GatewayHarness()
        let created = try await harness.send(.POST, "/generate/image/krea/krea-2/large", json: #"{"prompt":"slow [sim:never]","aspect_ratio":"4:5"}"#)
        #expect(created.status == 200)
        #expect(created.json["status"] as? String == "queued" && created.json["completed_at"] is NSNull && created.json["result"] is NSNull)
        let id = try #require(created.json["job_id"] as? String)
        #expect(created.header("X-Gateway-Cost-USD") == "0.060")
        let routed = try await harness.send(.GET, "/v1/generations/\(id)")
        #expect(routed.json["model"] as? String == "krea-2-large" && routed.json["provider_model"] as? String == "krea-2/large")
        try await Task.sleep(for: .milliseconds(100))
        let read = try await harness.send(.GET, "/jobs/\(id)")
        #expect(["queued", "processing"].contains(read.json["status"] as? String ?? ""))
        let cancelled = try await harness.send(.DELETE, "/jobs/\(id)")
        #expect(cancelled.status == 200 && cancelled.json["status"] as? String == "cancelled" && cancelled.json["completed_at"] is String)
        // Errors in Krea's shape: a string under "error" (and our code beside it).
        let unknown = try await harness.send(.GET, "/jobs/gen_nope")
        #expect(unknown.status == 404 && unknown.json["error"] is String && unknown.json["code"] as? String == "not_found")
        let again = try await harness.send(.DELETE, "/jobs/\(id)")
        #expect(again.status == 409 && again.json["error"] is String)
        let badVariant = try await harness.send(.POST, "/generate/image/krea/krea-2/medium-turbo", json: #"{"prompt":"x"}"#)
        #expect(badVariant.status == 404)
        let unsupported = try await harness.send(.POST, "/generate/image/krea/krea-2/medium", json: #"{"prompt":"x","resolution":"2K"}"#)
        #expect(unsupported.status == 400 && (unsupported.json["error"] as? String ?? "").contains("resolution"))
        let noKey = try await harness.send(.POST, "/generate/image/krea/krea-2/medium", key: nil, json: #"{"prompt":"x"}"#)
        #expect(noKey.status == 401 && noKey.json["error"] is String)
        await harness.stop()
    }

    @Test func onlyFinalAnswersAreReplayed() async {
        let keys = IdempotencyKeys()
        for (status, replayed) in [(402, false), (429, false), (409, false), (502, false), (503, false), (400, true), (422, true)] {
            let key = "k\(status)"
            guard case .proceed = await keys.begin(owner: "a", key: key, requestHash: "h") else { Issue.record("first use"); continue }
            keys.finish(owner: "a", key: key, jobID: nil, status: status, body: "{}")
            let again = await keys.begin(owner: "a", key: key, requestHash: "h")
            if case .replay = again { #expect(replayed, "\(status) was replayed") } else { #expect(!replayed, "\(status) was not replayed") }
        }
    }

    /// The process's figures at the moment most clients were waiting.
    final class Peak: Sendable {
        private let sample = Mutex((threads: 0, rssKiB: 0, waiting: 0))
        func record(threads: Int, rssKiB: Int, waiting: Int) {
            sample.withLock { if waiting >= $0.waiting { $0 = (threads, rssKiB, waiting) } }
        }
        var value: (threads: Int, rssKiB: Int, waiting: Int) { sample.withLock { $0 } }
    }

    static func threads() -> Int { statusField("Threads:") }
    static func rssKiB() -> Int { statusField("VmRSS:") }

    static func statusField(_ name: String) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix(name) {
            return Int(line.dropFirst(name.count).trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "") ?? 0
        }
        return 0
    }
}
