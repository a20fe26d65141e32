import AsyncHTTPClient
import Foundation
import GatewayCore
import NIOHTTP1
import Testing
@testable import GatewayApp

@Suite("Admin API end to end", .serialized)
struct AdminAPITests {
    static let master = GatewayHarness.masterKey
    static let configKeys = """
        teams:
          ops: {budget: {limit_usd: "50.00", period: monthly}}
        keys:
          - {id: key-a, name: "A", team: ops, key: "\(GatewayHarness.keyA)"}
        """

    @Test func admin_OnlyTheMasterKeyGetsIn() async throws {
        let harness = try await GatewayHarness(keysYAML: Self.configKeys)
        do {
            let client = try await harness.send(.GET, "/admin/keys", key: GatewayHarness.keyA)
            #expect(client.status == 403)
            #expect(client.error["code"] as? String == "admin_only")
            #expect(try await harness.send(.GET, "/admin/keys", key: nil).status == 401)
            #expect(try await harness.send(.GET, "/admin/keys", key: "wrong").status == 401)
            #expect(try await harness.send(.GET, "/admin/keys", key: Self.master).status == 200)
        } catch { Issue.record(error) }
        await harness.stop()
    }

    @Test func admin_WholeKeyLifecycle() async throws {
        let harness = try await GatewayHarness(keysYAML: Self.configKeys)
        do {
            let team = try await harness.send(.POST, "/admin/teams", key: Self.master, json: #"{"name":"web","budget":{"limit_usd":"1.00","period":"weekly"}}"#)
            #expect(team.status == 201)
            let created = try await harness.send(.POST, "/admin/keys", key: Self.master, json: """
                {"name":"Web app","team":"web","budget":{"limit_usd":"0.090","period":"daily"},"models":["krea-2-medium","fast"],"rpm":100}
                """)
            #expect(created.status == 201)
            let id = try #require(created.json["id"] as? String)
            let token = try #require(created.json["key"] as? String)
            let secret = try #require(created.json["webhook_secret"] as? String)
            #expect(token.hasPrefix("kgw_") && token.count >= 36)
            #expect(secret.hasPrefix("whsec_") && Data(base64Encoded: String(secret.dropFirst(6)))?.count == 32)
            #expect(created.json["source"] as? String == "admin")

            // The new key works, within its models and budget.
            let job = try await harness.generate(#"{"model":"krea-2-medium","prompt":"p [sim:never]"}"#, key: token)
            #expect(job.status == 202)
            #expect(job.header("X-Budget-Remaining-USD") == "0.060")
            #expect(try await harness.generate(#"{"model":"krea-2-large","prompt":"p"}"#, key: token).status == 403)

            // Reading it back never shows the plaintext; spend shows the reservation.
            let read = try await harness.send(.GET, "/admin/keys/\(id)", key: Self.master)
            #expect(read.json["key"] == nil && read.json["webhook_secret"] == nil)
            #expect(!read.text.contains(token))
            let spend = try #require(read.json["spend"] as? [[String: Any]])
            #expect(spend.first { $0["scope"] as? String == "key" }?["reserved_usd"] as? String == "0.030")
            #expect(spend.first { $0["scope"] as? String == "team" }?["id"] as? String == "web")
            let list = try await harness.send(.GET, "/admin/keys", key: Self.master)
            #expect((list.json["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String }.contains(id) == true)

            // Patch the budget down: the next request no longer fits.
            let patched = try await harness.send(.PATCH, "/admin/keys/\(id)", key: Self.master, json: #"{"budget":{"limit_usd":"0.040","period":"daily"}}"#)
            #expect(patched.status == 200)
            #expect(try await harness.generate(#"{"model":"krea-2-medium","prompt":"p"}"#, key: token).status == 402)

            // Rotate the webhook secret.
            let rotated = try await harness.send(.PATCH, "/admin/keys/\(id)", key: Self.master, json: #"{"rotate_webhook_secret":true}"#)
            let newSecret = try #require(rotated.json["webhook_secret"] as? String)
            #expect(newSecret.hasPrefix("whsec_") && newSecret != secret)

            // Revoke: 401 from now on, and its running job still settles.
            let running = try #require(job.json["id"] as? String)
            #expect(try await harness.send(.DELETE, "/admin/keys/\(id)", key: Self.master).json["revoked_at"] is String)
            let refused = try await harness.generate(#"{"model":"krea-2-medium","prompt":"p"}"#, key: token)
            #expect(refused.status == 401)
            #expect(try await harness.send(.DELETE, "/v1/generations/\(running)", key: Self.master).status == 200)
            #expect(harness.application.jobs.job(id: running)?.billingStatus == .released)
            #expect(harness.application.ledger.reservation(jobID: running) == nil)
        } catch { Issue.record(error) }
        await harness.stop()
    }

    @Test func admin_ConfigDeclaredKeysAndTeamsAreReadOnly() async throws {
        let harness = try await GatewayHarness(keysYAML: Self.configKeys)
        do {
            let key = try await harness.send(.GET, "/admin/keys/key-a", key: Self.master)
            #expect(key.json["source"] as? String == "config")
            #expect(try await harness.send(.PATCH, "/admin/keys/key-a", key: Self.master, json: #"{"rpm":5}"#).status == 409)
            #expect(try await harness.send(.DELETE, "/admin/keys/key-a", key: Self.master).status == 409)
            #expect(try await harness.send(.PATCH, "/admin/teams/ops", key: Self.master, json: #"{"budget":null}"#).status == 409)
            #expect(try await harness.send(.DELETE, "/admin/teams/ops", key: Self.master).status == 409)
            #expect(try await harness.send(.GET, "/admin/keys/nope", key: Self.master).status == 404)
            let bad = try await harness.send(.POST, "/admin/keys", key: Self.master, json: #"{"name":"x","colour":"red"}"#)
            #expect(bad.status == 400 && bad.error["code"] as? String == "unknown_parameter")
            let badBudget = try await harness.send(.POST, "/admin/keys", key: Self.master, json: #"{"name":"x","budget":{"limit_usd":"1.0000001","period":"daily"}}"#)
            #expect(badBudget.status == 400 && badBudget.error["param"] as? String == "budget")
            let badTeam = try await harness.send(.POST, "/admin/keys", key: Self.master, json: #"{"name":"x","team":"ghosts"}"#)
            #expect(badTeam.status == 400 && badTeam.error["param"] as? String == "team")
            let missingName = try await harness.send(.POST, "/admin/keys", key: Self.master, json: "{}")
            #expect(missingName.status == 400 && missingName.error["code"] as? String == "missing_parameter")
        } catch { Issue.record(error) }
        await harness.stop()
    }

    @Test func admin_SpendReportEqualsTheLedgerAndRefundsRelease() async throws {
        let harness = try await GatewayHarness(keysYAML: """
            teams:
              ops: {budget: {limit_usd: "50.00", period: monthly}}
            keys:
              - {id: key-a, name: "A", team: ops, key: "\(GatewayHarness.keyA)", budget: {limit_usd: "10.00", period: daily}}
              - {id: key-b, name: "B", key: "\(GatewayHarness.keyB)", budget: {limit_usd: "10.00", period: daily}}
            """)
        do {
            var ids: [String] = []
            for (body, key) in [(#"{"model":"krea-2-medium","prompt":"p"}"#, GatewayHarness.keyA),
                                (#"{"model":"krea-2-large","prompt":"p"}"#, GatewayHarness.keyA),
                                (#"{"model":"krea-2-turbo","prompt":"p","quality":"2K"}"#, GatewayHarness.keyB),
                                (#"{"model":"krea-2-medium","prompt":"p [sim:fail]"}"#, GatewayHarness.keyB)] {
                ids.append(try #require(try await harness.generate(body, key: key).json["id"] as? String))
            }
            for id in ids { _ = try await harness.waitTerminal(id, key: Self.master) }
            try await BudgetTests.settled(harness)

            let byKey = try await harness.send(.GET, "/admin/spend?group_by=key", key: Self.master)
            let rows = try #require(byKey.json["data"] as? [[String: Any]])
            let a = try #require(rows.first { $0["group"] as? String == "key-a" })
            let b = try #require(rows.first { $0["group"] as? String == "key-b" })
            #expect(a["requests"] as? Int == 2 && a["completed"] as? Int == 2 && a["spent_usd"] as? String == "0.090")
            #expect(b["requests"] as? Int == 2 && b["failed"] as? Int == 1 && b["spent_usd"] as? String == "0.027")
            // The report equals the ledger, key by key.
            #expect(BudgetTests.spent(harness, .key("key-a")).apiString == "0.090")
            #expect(BudgetTests.spent(harness, .key("key-b")).apiString == "0.027")
            let byTeam = try await harness.send(.GET, "/admin/spend?group_by=team", key: Self.master)
            #expect((byTeam.json["data"] as? [[String: Any]])?.first { $0["group"] as? String == "ops" }?["spent_usd"] as? String == BudgetTests.spent(harness, .team("ops")).apiString)
            let byProvider = try await harness.send(.GET, "/admin/spend?group_by=provider", key: Self.master)
            #expect((byProvider.json["data"] as? [[String: Any]])?.first { $0["group"] as? String == "evolink" }?["spent_usd"] as? String == "0.027")
            let future = try await harness.send(.GET, "/admin/spend?group_by=model&from=2099-01-01", key: Self.master)
            #expect((future.json["data"] as? [Any])?.isEmpty == true)
            #expect(try await harness.send(.GET, "/admin/spend?group_by=colour", key: Self.master).status == 400)
            #expect(try await harness.send(.GET, "/admin/spend?from=2026-02-30", key: Self.master).status == 400)

            // Any key's jobs, then a refund.
            let all = try await harness.send(.GET, "/admin/generations?limit=100", key: Self.master)
            #expect((all.json["data"] as? [Any])?.count == 4)
            let onlyB = try await harness.send(.GET, "/admin/generations?key=key-b&status=failed", key: Self.master)
            #expect((onlyB.json["data"] as? [[String: Any]])?.count == 1)
            let refunded = try await harness.send(.POST, "/admin/generations/\(ids[1])/refund", key: Self.master)
            #expect(refunded.status == 200)
            #expect(refunded.json["billing_status"] as? String == "released")
            #expect(BudgetTests.spent(harness, .key("key-a")).apiString == "0.030")
            #expect(try await harness.send(.POST, "/admin/generations/\(ids[1])/refund", key: Self.master).status == 409)
            #expect(try await harness.send(.POST, "/admin/generations/\(ids[3])/refund", key: Self.master).status == 409)
            let afterRefund = try await harness.send(.GET, "/admin/spend?group_by=key", key: Self.master)
            #expect((afterRefund.json["data"] as? [[String: Any]])?.first { $0["group"] as? String == "key-a" }?["spent_usd"] as? String == "0.030")
        } catch { Issue.record(error) }
        await harness.stop()
    }
}
