import AsyncHTTPClient
import NIOHTTP1
import Foundation
import GatewayCore
import Testing
@testable import GatewayApp

/// End to end over real sockets: the gateway and both provider simulators.
@Suite("Generation API end to end", .serialized)
struct GenerationAPITests {
    // MARK: Routing and translation

    @Test func route_EachModelReachesItsProviderWithTheTranslatedRequest() async throws {
        let harness = try await GatewayHarness()
        do {
            let medium = try await harness.generate(#"{"model":"krea-2-medium","prompt":"a red fox","metadata":{"ticket":"DES-42"}}"#)
            #expect(medium.status == 202)
            #expect(medium.json["provider"] as? String == "krea")
            #expect(medium.json["provider_model"] as? String == "krea-2/medium")
            #expect(medium.json["cost_usd"] as? String == "0.030")
            #expect(medium.json["billing_status"] as? String == "reserved")
            #expect((medium.json["metadata"] as? [String: String]) == ["ticket": "DES-42"])
            #expect(medium.header("Location") == "/v1/generations/\(medium.json["id"] as? String ?? "")")
            #expect(medium.header("X-Gateway-Cost-USD") == "0.030")
            let kreaSubmission = try #require(harness.krea.received().first { $0.method == "POST" })
            #expect(kreaSubmission.path == "/generate/image/krea/krea-2/medium")
            #expect(kreaSubmission.headers["authorization"] == "Bearer sim-krea-key")
            #expect(kreaSubmission.json?.keys.sorted() == ["aspect_ratio", "prompt", "resolution"])
            #expect(kreaSubmission.json?["aspect_ratio"] as? String == "1:1")

            _ = try await harness.generate(#"{"model":"krea-2-large","prompt":"a castle","image_style_references":[{"url":"https://x/a.png"}]}"#)
            let large = try #require(harness.krea.received().last { $0.method == "POST" })
            #expect(large.path == "/generate/image/krea/krea-2/large")
            let references = large.json?["image_style_references"] as? [[String: Any]]
            #expect(references?.first?["strength"] as? Double == 0.5)

            let turbo = try await harness.generate(#"{"model":"krea-2-turbo","prompt":"a boat","size":"16:9","quality":"2K","seed":7}"#)
            #expect(turbo.status == 202)
            #expect(turbo.json["provider"] as? String == "evolink")
            #expect(turbo.json["cost_usd"] as? String == "0.027")
            let evolinkSubmission = try #require(harness.evolink.received().first { $0.method == "POST" })
            #expect(evolinkSubmission.path == "/v1/images/generations")
            #expect(evolinkSubmission.headers["authorization"] == "Bearer sim-evolink-key")
            #expect(evolinkSubmission.json?["model"] as? String == "krea-2-turbo")
            #expect(evolinkSubmission.json?["size"] as? String == "16:9")
            #expect(evolinkSubmission.json?["quality"] as? String == "2K")
            #expect(evolinkSubmission.json?["seed"] as? Int == 7)

            let alias = try await harness.generate(#"{"model":"default","prompt":"p"}"#)
            #expect(alias.json["model"] as? String == "default")
            #expect(alias.json["provider_model"] as? String == "krea-2/medium")
        } catch { Issue.record(error) }
        await harness.stop()
    }

    // MARK: Every 400 of API.md §2

    static let badRequests: [(String, String, String?)] = [
        ("{", "invalid_json", nil),
        (#"{"prompt":"p"}"#, "missing_parameter", "model"),
        (#"{"model":"krea-2-medium","prompt":" "}"#, "invalid_parameter", "prompt"),
        (#"{"model":"krea-2-medium","prompt":"p","aspect_ratio":"3:4"}"#, "invalid_parameter", "aspect_ratio"),
        (#"{"model":"krea-2-medium","prompt":"p","resolution":"2K"}"#, "invalid_parameter", "resolution"),
        (#"{"model":"krea-2-turbo","prompt":"p","seed":2000000}"#, "invalid_parameter", "seed"),
        (#"{"model":"krea-2-medium","prompt":"p","colour":"red"}"#, "unknown_parameter", "colour"),
        (#"{"model":"krea-2-turbo","prompt":"p","moodboards":[{"id":"m"}]}"#, "unsupported_parameter", "moodboards"),
        (#"{"model":"krea-2-turbo","prompt":"p","creativity":"high"}"#, "unsupported_parameter", "creativity"),
        (#"{"model":"fast","prompt":"p","styles":[{"id":"s","strength":1}]}"#, "unsupported_parameter", "styles"),
        (#"{"model":"krea-2-medium","prompt":"p","nsfw_check":true}"#, "unsupported_parameter", "nsfw_check"),
        (#"{"model":"krea-3","prompt":"p"}"#, "unknown_model", "model"),
        (#"{"model":"krea-2-medium","prompt":"p","moodboards":[{"id":"not-a-uuid"}]}"#, "invalid_parameter", "moodboards"),
        (#"{"model":"krea-2-medium","prompt":"p","webhook_url":""}"#, "invalid_webhook_url", "webhook_url"),
        (#"{"model":"krea-2-medium","prompt":"p","webhook_url":"http://hooks.example.com/x"}"#, "invalid_webhook_url", "webhook_url"),
        (#"{"model":"krea-2-medium","prompt":"p","webhook_url":"https://169.254.169.254/latest"}"#, "invalid_webhook_url", "webhook_url"),
        (#"{"model":"krea-2-medium","prompt":"p","webhook_url":"https://2130706433/x"}"#, "invalid_webhook_url", "webhook_url"),
    ]

    @Test func validation_EveryBadRequestIs400WithItsCodeAndNothingReachesAProvider() async throws {
        let harness = try await GatewayHarness()
        do {
            for (body, code, param) in Self.badRequests {
                let reply = try await harness.generate(body)
                #expect(reply.status == 400, "\(body)")
                #expect(reply.error["type"] as? String == "invalid_request_error")
                #expect(reply.error["code"] as? String == code, "\(body)")
                #expect(reply.error["param"] as? String == param, "\(body)")
            }
            let message = try await harness.generate(#"{"model":"krea-2-turbo","prompt":"p","moodboards":[{"id":"m"}]}"#)
            #expect(message.error["message"] as? String == "moodboards is not supported by model krea-2-turbo (provider evolink)")
            #expect(harness.krea.received().filter { $0.method == "POST" }.isEmpty)
            #expect(harness.evolink.received().filter { $0.method == "POST" }.isEmpty)
            let header = try await harness.generate(#"{"model":"krea-2-medium","prompt":"p"}"#, headers: [("X-Webhook-URL", "https://[::ffff:127.0.0.1]/x")])
            #expect(header.status == 400 && header.error["code"] as? String == "invalid_webhook_url")
            let wrongType = try await harness.send(.POST, "/v1/generations", json: nil, headers: [("Content-Type", "text/plain")])
            #expect(wrongType.status == 415)
        } catch { Issue.record(error) }
        await harness.stop()
    }

    @Test func auth_MissingOrUnknownKeyIs401AndOtherKeysSee404() async throws {
        let harness = try await GatewayHarness()
        do {
            #expect(try await harness.generate(#"{"model":"krea-2-medium","prompt":"p"}"#, key: nil).status == 401)
            let wrong = try await harness.generate(#"{"model":"krea-2-medium","prompt":"p"}"#, key: "kgw_nope")
            #expect(wrong.status == 401)
            #expect(wrong.error["code"] as? String == "invalid_api_key")
            let created = try await harness.generate(#"{"model":"krea-2-medium","prompt":"p"}"#)
            let id = try #require(created.json["id"] as? String)
            #expect(try await harness.send(.GET, "/v1/generations/\(id)", key: GatewayHarness.keyB).status == 404)
            #expect(try await harness.send(.DELETE, "/v1/generations/\(id)", key: GatewayHarness.keyB).status == 404)
            #expect(try await harness.send(.GET, "/v1/generations/\(id)", key: GatewayHarness.masterKey).status == 200)
            let notAllowed = try await harness.generate(#"{"model":"krea-2-medium","prompt":"p"}"#, key: GatewayHarness.turboOnlyKey)
            #expect(notAllowed.status == 403)
            #expect(notAllowed.error["code"] as? String == "model_not_allowed")
        } catch { Issue.record(error) }
        await harness.stop()
    }

    // MARK: Tracking

    @Test func tracking_PollingAloneCompletesJobsOnBothProviders() async throws {
        let harness = try await GatewayHarness(callbacks: false)
        do {
            for body in [#"{"model":"krea-2-medium","prompt":"p"}"#, #"{"model":"krea-2-turbo","prompt":"p"}"#] {
                let created = try await harness.generate(body)
                let done = try await harness.waitTerminal(try #require(created.json["id"] as? String))
                #expect(done.json["status"] as? String == "completed")
                #expect(done.json["billing_status"] as? String == "charged")
                #expect(((done.json["result"] as? [String: Any])?["urls"] as? [String])?.isEmpty == false)
                #expect(done.json["completed_at"] is String)
            }
            #expect(harness.krea.received().contains { $0.method == "GET" && $0.path.hasPrefix("/jobs/") })
            #expect(harness.evolink.received().contains { $0.method == "GET" && $0.path.hasPrefix("/v1/tasks/") })
        } catch { Issue.record(error) }
        await harness.stop()
    }

    @Test func tracking_CallbacksAloneCompleteJobsAndDuplicatesAreHarmless() async throws {
        // Polls every hour: only the providers' callbacks (sent twice each) can finish the jobs.
        let harness = try await GatewayHarness(callbacks: true, pollInterval: 3600)
        do {
            for body in [#"{"model":"krea-2-medium","prompt":"p"}"#, #"{"model":"krea-2-turbo","prompt":"p"}"#] {
                let created = try await harness.generate(body)
                let done = try await harness.waitTerminal(try #require(created.json["id"] as? String), timeout: .seconds(5))
                #expect(done.json["status"] as? String == "completed")
                #expect(done.json["billing_status"] as? String == "charged")
            }
            let kreaPost = try #require(harness.krea.received().first { $0.method == "POST" })
            #expect(kreaPost.headers["x-webhook-url"]?.hasPrefix(harness.baseURL + "/v1/provider-callbacks/") == true)
            let evolinkPost = try #require(harness.evolink.received().first { $0.method == "POST" })
            #expect((evolinkPost.json?["callback_url"] as? String)?.hasPrefix(harness.baseURL + "/v1/provider-callbacks/") == true)
            try await Task.sleep(for: .milliseconds(200))
            #expect(harness.krea.callbackAttempts().count >= 2)
            #expect(harness.evolink.callbackAttempts().count >= 2)
        } catch { Issue.record(error) }
        await harness.stop()
    }

    /// A job waits in the tracker's schedule until its first poll is due; one that ended by
    /// callback meanwhile is never polled, and one that did not is polled from then on.
    @Test func tracking_FirstPollComesAtTheIntervalAndSkipsJobsThatEnded() async throws {
        let harness = try await GatewayHarness(callbacks: true, pollInterval: 1.5)
        do {
            let ended = try #require(try await harness.generate(#"{"model":"krea-2-medium","prompt":"p"}"#).json["id"] as? String)
            let open = try #require(try await harness.generate(#"{"model":"krea-2-medium","prompt":"p [sim:never]"}"#).json["id"] as? String)
            let done = try await harness.waitTerminal(ended, timeout: .seconds(5))
            #expect(done.json["status"] as? String == "completed")
            let endedJob = try #require(harness.application.jobs.job(id: ended)?.providerJobID)
            let openJob = try #require(harness.application.jobs.job(id: open)?.providerJobID)
            func reads(_ providerJobID: String) -> Int { harness.krea.received().filter { $0.method == "GET" && $0.path == "/jobs/\(providerJobID)" }.count }
            // Re-reads for the ended job's duplicate callbacks that were already on their way land first.
            try await Task.sleep(for: .milliseconds(200))
            // The open job gets no callback (it never changes): nothing has read it before its first poll.
            #expect(reads(openJob) == 0)
            let readsWhenEnded = reads(endedJob)
            try await Task.sleep(for: .milliseconds(2_500))
            #expect(reads(endedJob) == readsWhenEnded, "a job that ended is not polled")
            #expect(reads(openJob) >= 1, "an open job is polled once its interval has passed")
        } catch { Issue.record(error) }
        await harness.stop()
    }

    @Test func callbacks_ForgedOrUnknownAre404AndTriggerNothing() async throws {
        let harness = try await GatewayHarness(callbacks: true, pollInterval: 3600)
        do {
            let created = try await harness.generate(#"{"model":"krea-2-medium","prompt":"p [sim:never]"}"#)
            let id = try #require(created.json["id"] as? String)
            let forged = try await harness.send(.POST, "/v1/provider-callbacks/\(id)/00000000000000000000000000000000", key: nil, json: "{}")
            #expect(forged.status == 404)
            let unknown = try await harness.send(.POST, "/v1/provider-callbacks/gen_unknown/abc", key: nil, json: "{}")
            #expect(unknown.status == 404)
            let reads = harness.krea.received().filter { $0.method == "GET" }.count
            #expect(reads == 0)
        } catch { Issue.record(error) }
        await harness.stop()
    }

    @Test func tracking_FailuresMapToTheJobError() async throws {
        let harness = try await GatewayHarness()
        do {
            let failed = try await harness.waitTerminal(try #require(try await harness.generate(#"{"model":"krea-2-medium","prompt":"p [sim:fail]"}"#).json["id"] as? String))
            #expect(failed.json["status"] as? String == "failed")
            #expect(failed.json["billing_status"] as? String == "released")
            let policy = try await harness.waitTerminal(try #require(try await harness.generate(#"{"model":"krea-2-turbo","prompt":"p [sim:policy]"}"#).json["id"] as? String))
            #expect((policy.json["error"] as? [String: Any])?["code"] as? String == "content_policy_violation")
            let cancelled = try await harness.waitTerminal(try #require(try await harness.generate(#"{"model":"krea-2-turbo","prompt":"p [sim:cancelled]"}"#).json["id"] as? String))
            #expect(cancelled.json["status"] as? String == "cancelled")
            #expect(cancelled.json["billing_status"] as? String == "released")
        } catch { Issue.record(error) }
        await harness.stop()
    }

    @Test func tracking_AJobThatNeverFinishesExpiresCharged() async throws {
        let harness = try await GatewayHarness(extraYAML: "jobs: {max_age_s: 0.4}")
        do {
            let created = try await harness.generate(#"{"model":"krea-2-medium","prompt":"p [sim:never]"}"#)
            let done = try await harness.waitTerminal(try #require(created.json["id"] as? String), timeout: .seconds(5))
            #expect(done.json["status"] as? String == "failed")
            #expect((done.json["error"] as? [String: Any])?["code"] as? String == "upstream_timeout")
            #expect(done.json["billing_status"] as? String == "charged")
        } catch { Issue.record(error) }
        await harness.stop()
    }

    // MARK: Provider errors at submission (API.md §2)

    @Test func submission_ProviderFailuresMapToTheDocumentedStatuses() async throws {
        let harness = try await GatewayHarness(providerTimeout: 0.5)
        do {
            let cases: [(String, Int, String)] = [
                (#"{"model":"krea-2-medium","prompt":"p [sim:http=429]"}"#, 503, "upstream_unavailable"),
                (#"{"model":"krea-2-turbo","prompt":"p [sim:http=429]"}"#, 503, "upstream_unavailable"),
                (#"{"model":"krea-2-medium","prompt":"p [sim:http=500]"}"#, 502, "upstream_error"),
                (#"{"model":"krea-2-turbo","prompt":"p [sim:http=503]"}"#, 502, "upstream_error"),
                (#"{"model":"krea-2-medium","prompt":"p [sim:http=402]"}"#, 503, "upstream_unavailable"),
                (#"{"model":"krea-2-medium","prompt":"p [sim:http=401]"}"#, 502, "upstream_error"),
                (#"{"model":"krea-2-medium","prompt":"p [sim:garbage]"}"#, 502, "upstream_error"),
                (#"{"model":"krea-2-turbo","prompt":"p [sim:wrongshape]"}"#, 502, "upstream_error"),
                (#"{"model":"krea-2-medium","prompt":"p [sim:delay=2000]"}"#, 504, "upstream_timeout"),
            ]
            for (body, status, code) in cases {
                let reply = try await harness.generate(body)
                #expect(reply.status == status, "\(body): \(reply.text)")
                #expect(reply.error["code"] as? String == code, "\(body)")
                #expect(reply.error["type"] as? String == "upstream_error")
                if status == 503, code == "upstream_unavailable", body.contains("429") { #expect(reply.header("Retry-After") != nil) }
            }
            // Refused submissions leave no job behind; the three whose outcome is unknown (no usable
            // answer: the provider may have created them) are kept, failed and charged.
            let list = try await harness.send(.GET, "/v1/generations")
            let kept = list.json["data"] as? [[String: Any]] ?? []
            #expect(kept.count == 3)
            #expect(kept.allSatisfy { $0["status"] as? String == "failed" && $0["billing_status"] as? String == "charged" })
        } catch { Issue.record(error) }
        await harness.stop()
    }

    @Test func fallback_AliasTriesTheNextTargetOnlyWhenTheFirstRefused() async throws {
        let harness = try await GatewayHarness(providerTimeout: 0.5)
        do {
            harness.evolink.injectSubmissionFailures(status: 503, count: 1)
            let fellBack = try await harness.generate(#"{"model":"fast","prompt":"p"}"#)
            #expect(fellBack.status == 202)
            #expect(fellBack.json["model"] as? String == "fast")
            #expect(fellBack.json["provider"] as? String == "krea")
            #expect(fellBack.json["cost_usd"] as? String == "0.030")
            // Only the second target's hold remains: the refused first one was released.
            #expect(harness.application.ledger.allTotals.isEmpty || harness.application.ledger.allTotals.allSatisfy { $0.reserved <= Money(micros: 30_000) })
            // A timeout may have created a job upstream: no fallback, and the job is kept,
            // failed and charged (its outcome is unknown), named in the error.
            let timedOut = try await harness.generate(#"{"model":"fast","prompt":"p [sim:delay=2000]"}"#)
            #expect(timedOut.status == 504)
            #expect(harness.krea.received().filter { $0.method == "POST" }.count == 1)
            let keptID = try #require(timedOut.header("X-Generation-Id"))
            #expect((timedOut.error["message"] as? String ?? "").contains(keptID))
            let kept = try await harness.send(.GET, "/v1/generations/\(keptID)")
            #expect(kept.json["status"] as? String == "failed")
            #expect(kept.json["billing_status"] as? String == "charged")
            #expect((kept.json["error"] as? [String: Any])?["code"] as? String == "upstream_timeout")
            #expect(kept.json["cost_usd"] as? String == "0.0067")
        } catch { Issue.record(error) }
        await harness.stop()
    }

    // MARK: Cancel

    @Test func cancel_KreaCancelsEvolinkIs409() async throws {
        let harness = try await GatewayHarness()
        do {
            let krea = try await harness.generate(#"{"model":"krea-2-medium","prompt":"p [sim:never]"}"#)
            let kreaID = try #require(krea.json["id"] as? String)
            try await Task.sleep(for: .milliseconds(50))
            let cancelled = try await harness.send(.DELETE, "/v1/generations/\(kreaID)")
            #expect(cancelled.status == 200)
            #expect(cancelled.json["status"] as? String == "cancelled")
            #expect(cancelled.json["billing_status"] as? String == "released")
            #expect(harness.krea.received().contains { $0.method == "DELETE" && $0.path == "/jobs/" + ((harness.application.jobs.job(id: kreaID)?.providerJobID) ?? "") })
            let again = try await harness.send(.DELETE, "/v1/generations/\(kreaID)")
            #expect(again.status == 409)
            #expect(again.error["code"] as? String == "not_cancellable")

            let turbo = try await harness.generate(#"{"model":"krea-2-turbo","prompt":"p [sim:never]"}"#)
            let refused = try await harness.send(.DELETE, "/v1/generations/\(try #require(turbo.json["id"] as? String))")
            #expect(refused.status == 409)
            #expect(refused.error["code"] as? String == "not_cancellable")
        } catch { Issue.record(error) }
        await harness.stop()
    }

    // MARK: List and models

    @Test func list_PagesNewestFirstWithACursor() async throws {
        let harness = try await GatewayHarness()
        do {
            var ids: [String] = []
            for _ in 0..<5 { ids.append(try #require(try await harness.generate(#"{"model":"krea-2-medium","prompt":"p"}"#).json["id"] as? String)) }
            _ = try await harness.generate(#"{"model":"krea-2-medium","prompt":"p"}"#, key: GatewayHarness.keyB)
            let first = try await harness.send(.GET, "/v1/generations?limit=2")
            let firstIDs = (first.json["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
            #expect(firstIDs == [ids[4], ids[3]])
            let cursor = try #require(first.json["next"] as? String)
            let second = try await harness.send(.GET, "/v1/generations?limit=2&after=\(cursor)")
            #expect((second.json["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [ids[2], ids[1]])
            let last = try await harness.send(.GET, "/v1/generations?limit=2&after=\(try #require(second.json["next"] as? String))")
            #expect((last.json["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [ids[0]])
            #expect(last.json["next"] is NSNull)
            #expect(try await harness.send(.GET, "/v1/generations?limit=0").status == 400)
            #expect(try await harness.send(.GET, "/v1/generations?status=done").status == 400)
        } catch { Issue.record(error) }
        await harness.stop()
    }

    @Test func models_ListWhatTheKeyMayUseWithPrices() async throws {
        let harness = try await GatewayHarness()
        do {
            let all = try await harness.send(.GET, "/v1/models")
            let entries = try #require(all.json["data"] as? [[String: Any]])
            #expect(entries.compactMap { $0["id"] as? String } == ["krea-2-medium", "krea-2-large", "krea-2-turbo", "default", "fast"])
            let turbo = try #require(entries.first { $0["id"] as? String == "krea-2-turbo" })
            #expect(turbo["provider"] as? String == "evolink")
            #expect((turbo["resolutions"] as? [String]) == ["1K", "2K"])
            #expect((turbo["supported_parameters"] as? [String])?.contains("nsfw_check") == true)
            let pricing = try #require(turbo["pricing"] as? [String: Any])
            #expect(pricing["base_usd"] as? String == "0.0067")
            let fast = try #require(entries.first { $0["id"] as? String == "fast" })
            #expect((fast["targets"] as? [String]) == ["krea-2-turbo", "krea-2-medium"])
            let limited = try await harness.send(.GET, "/v1/models", key: GatewayHarness.turboOnlyKey)
            #expect((limited.json["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["krea-2-turbo"])
        } catch { Issue.record(error) }
        await harness.stop()
    }
}
