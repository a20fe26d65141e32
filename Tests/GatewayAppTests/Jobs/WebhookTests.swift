import AsyncHTTPClient
import Foundation
import GatewayCore
import HTTPServer
import NIOHTTP1
import Synchronization
import Testing
import Webhooks
@testable import GatewayApp

/// A webhook receiver on loopback that records what it gets and answers per path.
final class Receiver: Sendable {
    struct Hit: Sendable { let path: String; let headers: ServerHeaders; let body: [UInt8]; let at: ContinuousClock.Instant }
    let server: Server
    let port: Int

    init() throws {
        var router = Router()
        let box = HitBox()
        router.add("POST", "/ok/{tag}") { request in box.add(request); return HTTPResponse(status: 204) }
        router.add("POST", "/flaky") { request in
            let count = box.add(request)
            return HTTPResponse(status: count <= 2 ? 500 : 200)
        }
        router.add("POST", "/gone") { request in box.add(request); return HTTPResponse(status: 410) }
        router.add("POST", "/redirect") { request in
            box.add(request)
            return HTTPResponse(status: 307, headers: ["Location": "/ok/redirected"])
        }
        router.add("POST", "/hang") { request in
            box.add(request)
            try? await Task.sleep(for: .seconds(3))
            return HTTPResponse(status: 200)
        }
        server = Server(configuration: .init(host: "127.0.0.1", port: 0, shutdownGrace: .milliseconds(100)), handler: router.handler)
        port = try server.start().port
        self.box = box
    }

    let box: HitBox
    var url: String { "http://127.0.0.1:\(port)" }
    func received(_ prefix: String = "") -> [Hit] { box.all.filter { $0.path.hasPrefix(prefix) } }
    func stop() async { await server.shutdown() }
}

final class HitBox: Sendable {
    private let hits = Mutex<[Receiver.Hit]>([])
    @discardableResult
    func add(_ request: ServerRequest) -> Int {
        hits.withLock { hits in
            hits.append(Receiver.Hit(path: String(request.path), headers: request.headers, body: request.body, at: ContinuousClock.now))
            return hits.filter { $0.path == String(request.path) }.count
        }
    }
    var all: [Receiver.Hit] { hits.withLock { $0 } }
}

@Suite("Webhooks end to end", .serialized)
struct WebhookTests {
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    /// A 1 s attempt timeout: the receivers answer at once, but under the whole suite's load on
    /// two cores a first attempt (a new connection) has been seen to take over 0.3 s.
    static let webhooksYAML = """
        webhooks: {secret: "\(secret)", timeout_s: 1, retry_schedule_s: [0.05, 0.05, 0.05], allow_http: true, allow_private_networks: true}
        """

    static func eventually(_ timeout: Duration = .seconds(5), _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }

    @Test func webhook_OneSignedEventPerTerminalJob() async throws {
        let receiver = try Receiver()
        let harness = try await GatewayHarness(extraYAML: Self.webhooksYAML)
        do {
            let created = try await harness.generate(#"{"model":"krea-2-medium","prompt":"p","webhook_url":"\#(receiver.url)/ok/a","metadata":{"t":"1"}}"#)
            let id = try #require(created.json["id"] as? String)
            let failed = try await harness.generate(#"{"model":"krea-2-turbo","prompt":"p [sim:fail]"}"#, headers: [("X-Webhook-URL", "\(receiver.url)/ok/b")])
            #expect(await Self.eventually { receiver.received("/ok/").count >= 2 })
            // The receiver records a hit before it answers: the gateway records the attempt a
            // moment later (how long a moment depends on the machine's load).
            #expect(await Self.eventually {
                let deliveries = harness.application.webhooks.deliveries(state: nil)
                return deliveries.count == 2 && deliveries.allSatisfy { $0.state == .delivered }
            })
            try await Task.sleep(for: .milliseconds(200))
            // Exactly one event per job. (Delivery is at least once: on a loaded machine an
            // attempt can outlast the timeout and be sent again — with the same id and body.)
            let hits = receiver.received("/ok/")
            #expect(Set(hits.map { $0.headers["webhook-id"] ?? "" }).count == 2, "\(hits.map { $0.headers["webhook-id"] ?? "" })")
            for id in Set(hits.map { $0.headers["webhook-id"] ?? "" }) {
                #expect(Set(hits.filter { $0.headers["webhook-id"] == id }.map(\.body)).count == 1)
            }
            let deliveries = harness.application.webhooks.deliveries(state: nil)
            #expect(deliveries.count == 2 && deliveries.allSatisfy { $0.state == .delivered })
            #expect(hits.count <= deliveries.reduce(0) { $0 + $1.attempts.count }, "every reception is a recorded attempt")

            let hit = try #require(receiver.received("/ok/a").first)
            #expect(hit.headers["webhook-id"] == "msg_\(id)")
            #expect(hit.headers["user-agent"] == "krea-gateway/\(GatewayVersion.current)")
            #expect(hit.headers["content-type"] == "application/json")
            let signer = try WebhookSigner(secret: Self.secret)
            let timestamp = try #require(Int64(hit.headers["webhook-timestamp"] ?? ""))
            #expect(signer.verify(id: "msg_\(id)", timestamp: timestamp, body: hit.body, signatureHeader: hit.headers["webhook-signature"] ?? ""))
            let event = try #require(try JSONSerialization.jsonObject(with: Data(hit.body)) as? [String: Any])
            #expect(event["type"] as? String == "generation.completed")
            #expect(event["timestamp"] is String)
            let data = try #require(event["data"] as? [String: Any])
            #expect(data["id"] as? String == id && data["status"] as? String == "completed" && data["billing_status"] as? String == "charged")
            #expect((data["metadata"] as? [String: String]) == ["t": "1"])

            let failedHit = try #require(receiver.received("/ok/b").first)
            let failedEvent = try #require(try JSONSerialization.jsonObject(with: Data(failedHit.body)) as? [String: Any])
            #expect(failedEvent["type"] as? String == "generation.failed")
            #expect(failedHit.headers["webhook-id"] == "msg_\(try #require(failed.json["id"] as? String))")
        } catch { Issue.record(error) }
        await harness.stop()
        await receiver.stop()
    }

    @Test func webhook_RetriesWithTheSameIDAndBodyThenStopsOn2xxOr410OrTimeout() async throws {
        let receiver = try Receiver()
        let harness = try await GatewayHarness(extraYAML: Self.webhooksYAML)
        do {
            for path in ["flaky", "gone", "hang", "redirect"] {
                _ = try await harness.generate(#"{"model":"krea-2-medium","prompt":"p","webhook_url":"\#(receiver.url)/\#(path)"}"#)
            }
            #expect(await Self.eventually(.seconds(8)) {
                harness.application.webhooks.deliveries(state: .pending).isEmpty && harness.application.webhooks.deliveries(state: nil).count == 4
            })
            let flaky = receiver.received("/flaky")
            #expect(flaky.count == 3)
            #expect(Set(flaky.map { $0.headers["webhook-id"] ?? "" }).count == 1)
            #expect(Set(flaky.map(\.body)).count == 1)
            #expect(receiver.received("/gone").count == 1)
            // Redirects are not followed: a 307 is a failed attempt, retried at the same URL.
            #expect(receiver.received("/redirect").count == 4)
            #expect(receiver.received("/ok/redirected").isEmpty)
            // A receiver that hangs is timed out: one try per scheduled attempt, then given up.
            // (The receiver may record the last hung request a moment after the gateway gave up.)
            #expect(await Self.eventually(.seconds(3)) { receiver.received("/hang").count == 4 }, "\(receiver.received("/hang").count)")

            let deliveries = harness.application.webhooks.deliveries(state: nil)
            let byURL = Dictionary(uniqueKeysWithValues: deliveries.map { ($0.url.components(separatedBy: "/").last ?? "", $0) })
            #expect(byURL["flaky"]?.state == .delivered)
            #expect(byURL["flaky"]?.attempts.map(\.status) == [500, 500, 200], "\(byURL["flaky"]?.attempts.map { $0.error ?? "-" } ?? [])")
            #expect(byURL["gone"]?.state == .failed)
            #expect(byURL["gone"]?.attempts.map(\.status) == [410])
            #expect(byURL["hang"]?.state == .failed)
            #expect(byURL["hang"]?.attempts.allSatisfy { $0.error == "timeout" } == true)

            // The admin view, and a redelivery with the same webhook-id.
            let failed = try await harness.send(.GET, "/admin/webhook-deliveries?state=failed", key: GatewayHarness.masterKey)
            #expect((failed.json["data"] as? [[String: Any]])?.count == 3)
            let goneID = try #require(byURL["gone"]?.id)
            let retried = try await harness.send(.POST, "/admin/webhook-deliveries/\(goneID)/retry", key: GatewayHarness.masterKey)
            #expect(retried.status == 202)
            #expect(await Self.eventually { receiver.received("/gone").count == 2 })
            #expect(receiver.received("/gone").map { $0.headers["webhook-id"] ?? "" } == [goneID, goneID])
            #expect(try await harness.send(.GET, "/admin/webhook-deliveries?state=bogus", key: GatewayHarness.masterKey).status == 400)
        } catch { Issue.record(error) }
        await harness.stop()
        await receiver.stop()
    }

    @Test func webhook_DeadAndHangingReceiversDoNotDelayAHealthyOne() async throws {
        let healthy = try Receiver()
        let hanging = try Receiver()
        let dead = try GatewayHarness.freePort()  // nothing listens there
        let harness = try await GatewayHarness(extraYAML: """
            webhooks: {secret: "\(Self.secret)", timeout_s: 2, retry_schedule_s: [1, 1], allow_http: true, allow_private_networks: true}
            """)
        do {
            for index in 0..<50 {
                let url = index % 2 == 0 ? "http://127.0.0.1:\(dead)/x" : "\(hanging.url)/hang"
                _ = try await harness.generate(#"{"model":"krea-2-turbo","prompt":"p","webhook_url":"\#(url)"}"#)
            }
            // Let the hanging receiver's deliveries start and hold their permits.
            #expect(await Self.eventually(.seconds(3)) { hanging.received("/hang").count >= 4 })
            let started = ContinuousClock.now
            for index in 0..<5 {
                _ = try await harness.generate(#"{"model":"krea-2-turbo","prompt":"p","webhook_url":"\#(healthy.url)/ok/\#(index)"}"#)
            }
            #expect(await Self.eventually(.seconds(3)) { healthy.received("/ok/").count == 5 })
            #expect(ContinuousClock.now - started < .seconds(1.5))
            // The hanging destination never had more than its share in flight.
            #expect(hanging.received("/hang").count <= 4)
        } catch { Issue.record(error) }
        await harness.stop()
        await healthy.stop()
        await hanging.stop()
    }

    @Test func webhook_NoSigningSecretMeansTheURLIsRefused() async throws {
        let harness = try await GatewayHarness(extraYAML: "webhooks: {allow_http: true, allow_private_networks: true}")
        do {
            let refused = try await harness.generate(#"{"model":"krea-2-medium","prompt":"p","webhook_url":"http://127.0.0.1:9/x"}"#)
            #expect(refused.status == 400)
            #expect(refused.error["code"] as? String == "invalid_webhook_url")
        } catch { Issue.record(error) }
        await harness.stop()
    }
}
