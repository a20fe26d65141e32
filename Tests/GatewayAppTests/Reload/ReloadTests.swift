import Foundation
import GatewayCore
import NIOHTTP1
import Providers
import Synchronization
import Testing
@testable import GatewayApp

/// Config reload (issue: operations): `POST /admin/reload` over real sockets, the file re-read
/// through the same loader as at start-up.
@Suite("Config reload")
struct ReloadTests {
    static let keys = """
        keys:
          - {id: key-a, name: "A", key: "\(GatewayHarness.keyA)", budget: {limit_usd: "5.000", period: daily}}
        """

    @Test func aPriceAndABudgetChangeUnderLoadAndInFlightJobsKeepTheirPrice() async throws {
        let harness = try await GatewayHarness(stepDelay: .milliseconds(300), keysYAML: Self.keys)
        let text = Mutex(harness.yaml)
        let client = harness.providerClient
        harness.application.enableReload(ReloadSource(
            load: { try ConfigLoader.parse(yaml: text.withLock { $0 }, environment: [:]) },
            makeProviders: { ProviderRegistry.makeProviders($0, client: client) }))

        // Jobs admitted at the old price, still running when the file changes.
        var inFlight: [String] = []
        for _ in 0..<3 {
            let reply = try await harness.generate(#"{"model":"krea-2-medium","prompt":"old price"}"#)
            #expect(reply.header("X-Gateway-Cost-USD") == "0.030", "\(reply.status) \(reply.text)")
            inFlight.append(try #require(reply.json["id"] as? String))
        }

        // Submissions keep coming while the reload happens.
        // (cost, whether the request was sent after the reload had been answered)
        let costs = Mutex<[(cost: String, sentAfterReload: Bool)]>([])
        let reloaded = Mutex(false)
        let stop = Mutex(false)
        let load = Task {
            while !stop.withLock({ $0 }) {
                let after = reloaded.withLock { $0 }
                if let reply = try? await harness.generate(#"{"model":"krea-2-medium","prompt":"under load"}"#), reply.status == 202 {
                    costs.withLock { $0.append((reply.header("X-Gateway-Cost-USD") ?? "?", after)) }
                }
            }
        }
        try await Task.sleep(for: .milliseconds(100))
        text.withLock {
            $0 = $0.replacingOccurrences(of: "base_usd: \"0.030\"", with: "base_usd: \"0.050\"")
                .replacingOccurrences(of: "limit_usd: \"5.000\", period: daily", with: "limit_usd: \"100.000\", period: daily")
        }
        let applied = try await harness.send(.POST, "/admin/reload", key: GatewayHarness.masterKey)
        #expect(applied.status == 200)
        #expect(applied.json["status"] as? String == "applied")
        #expect((applied.json["restart_required"] as? [String]) == [])
        reloaded.withLock { $0 = true }
        let deadline = ContinuousClock.now + .seconds(10)
        while costs.withLock({ $0.filter(\.sentAfterReload).count }) < 3, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        stop.withLock { $0 = true }
        _ = await load.value
        let seen = costs.withLock { $0 }
        #expect(seen.contains { !$0.sentAfterReload } && seen.contains { $0.sentAfterReload }, "submissions ran before and after the reload")
        #expect(Set(seen.map(\.cost)).isSubset(of: ["0.030", "0.050"]), "\(Set(seen.map(\.cost)))")
        #expect(seen.filter(\.sentAfterReload).allSatisfy { $0.cost == "0.050" }, "every submission sent after the reload uses the new price")

        // The new budget is in force; the in-flight jobs settle at the price they were admitted with.
        let usage = try await harness.send(.GET, "/v1/usage")
        let budget = try #require((usage.json["budgets"] as? [[String: Any]])?.first)
        #expect(budget["limit_usd"] as? String == "100.000")
        for id in inFlight {
            let done = try await harness.waitTerminal(id)
            #expect(done.json["cost_usd"] as? String == "0.030")
        }
        let models = try await harness.send(.GET, "/v1/models")
        let medium = (models.json["data"] as? [[String: Any]])?.first { $0["id"] as? String == "krea-2-medium" }
        #expect((medium?["pricing"] as? [String: Any])?["base_usd"] as? String == "0.050")

        // A broken file changes nothing: refused with the loader's errors, the old values stay.
        text.withLock { $0 = $0.replacingOccurrences(of: "base_usd: \"0.050\"", with: "base_usd: \"cheap\"") + "\nsurprise_section: true\n" }
        let refused = try await harness.send(.POST, "/admin/reload", key: GatewayHarness.masterKey)
        #expect(refused.status == 400)
        #expect(refused.error["code"] as? String == "invalid_config")
        let message = refused.error["message"] as? String ?? ""
        #expect(message.contains("surprise_section") && message.contains("base_usd"), "\(message)")
        let after = try await harness.generate(#"{"model":"krea-2-medium","prompt":"still new price"}"#)
        #expect(after.header("X-Gateway-Cost-USD") == "0.050")
        #expect(try await harness.send(.POST, "/admin/reload", key: GatewayHarness.keyA).status == 403)
        await harness.stop()
    }

    @Test func keysAndTeamsAreSwappedAndSectionsNeedingARestartAreNamed() async throws {
        let harness = try await GatewayHarness(keysYAML: Self.keys)
        let text = Mutex(harness.yaml)
        let client = harness.providerClient
        harness.application.enableReload(ReloadSource(
            load: { try ConfigLoader.parse(yaml: text.withLock { $0 }, environment: [:]) },
            makeProviders: { ProviderRegistry.makeProviders($0, client: client) }))
        // An admin-created key survives the reload; a file that takes its id is refused.
        let created = try await harness.send(.POST, "/admin/keys", key: GatewayHarness.masterKey, json: #"{"name":"bot"}"#)
        let adminToken = try #require(created.json["key"] as? String)
        let adminID = try #require(created.json["id"] as? String)

        text.withLock {
            $0 = $0.replacingOccurrences(of: "- {id: key-a, name: \"A\"", with: "- {id: key-new, name: \"New\"")
                .replacingOccurrences(of: "logging: {level: error, format: text}", with: "logging: {level: info, format: text}")
        }
        let applied = try await harness.send(.POST, "/admin/reload", key: GatewayHarness.masterKey)
        #expect(applied.status == 200)
        #expect((applied.json["restart_required"] as? [String]) == ["logging"])
        // key-a's entry is now key-new's (same token): the old id is gone, the admin key is not.
        let keys = try await harness.send(.GET, "/admin/keys", key: GatewayHarness.masterKey)
        let ids = Set((keys.json["data"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String })
        #expect(ids == ["key-new", adminID])
        #expect(try await harness.send(.GET, "/v1/models", key: adminToken).status == 200)

        text.withLock { $0 = $0.replacingOccurrences(of: "- {id: key-new,", with: "- {id: \(adminID),") }
        let clash = try await harness.send(.POST, "/admin/reload", key: GatewayHarness.masterKey)
        #expect(clash.status == 400)
        #expect((clash.error["message"] as? String ?? "").contains("admin-created key"))
        #expect(try await harness.send(.GET, "/admin/keys/key-new", key: GatewayHarness.masterKey).status == 200)
        await harness.stop()
    }
}
