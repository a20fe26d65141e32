import GatewayCore
import GatewayTestSupport
import Providers
import Storage
import Testing
@testable import GatewayApp

/// The submission service on its own: no socket, no HTTP, a manual clock.
@Suite("Submission service")
struct SubmissionServiceTests {
    @Test func admitsReservesWritesAheadAndSubmits() async throws {
        let fixture = try SubmissionFixture()
        let outcome = await fixture.service.submit(SubmissionFixture.request("model-a"), Submission(key: fixture.key("key-a")))
        let accepted = try #require(outcome.accepted)
        #expect(accepted.price == Money(micros: 30_000))
        #expect(accepted.budgetRemaining == Money(micros: 40_000), "0.070 team budget less this job's 0.030")
        #expect(!accepted.replayed && accepted.job.status == .queued && accepted.job.providerJobID == "primary-1")
        #expect(fixture.primary.received.map(\.prompt) == ["a lighthouse at dawn"])
        #expect(fixture.team.reserved == Money(micros: 30_000))
        let stored = try await fixture.stored()
        #expect(stored.jobs.map(\.id) == [accepted.job.id])
        #expect(stored.jobs.first?.providerJobID == "primary-1", "the provider's id is durable before the answer")
        #expect(stored.ledger.map(\.kind) == [.reserve])
    }

    @Test func aBudgetWithoutRoomRefusesBeforeTheProviderHearsOfIt() async throws {
        let fixture = try SubmissionFixture()
        for _ in 0..<2 { #expect(await fixture.service.submit(SubmissionFixture.request("model-a"), Submission(key: fixture.key("key-a"))).accepted != nil) }
        let refusal = try #require(await fixture.service.submit(SubmissionFixture.request("model-a"), Submission(key: fixture.key("key-a"))).refusal)
        #expect(refusal.reason == .budgetExceeded && refusal.error.status == 402 && refusal.error.code == "budget_exceeded")
        #expect(fixture.primary.received.count == 2)
        #expect(fixture.team.reserved == Money(micros: 60_000))
        #expect(try await fixture.stored().jobs.count == 2)
    }

    @Test func unknownAndForbiddenModelsAreTypedRefusals() async throws {
        let fixture = try SubmissionFixture()
        let unknown = try #require(await fixture.service.submit(SubmissionFixture.request("model-z"), Submission(key: fixture.key("key-a"))).refusal)
        #expect(unknown.reason == .unknownModel && unknown.error.code == "unknown_model" && unknown.error.param == "model")
        let forbidden = try #require(await fixture.service.submit(SubmissionFixture.request("model-a"), Submission(key: fixture.key("key-b"))).refusal)
        #expect(forbidden.reason == .modelNotAllowed && forbidden.error.status == 403)
        #expect(fixture.primary.received.isEmpty)
    }

    @Test func theRateLimitRefusesTheSecondRequestInAMinute() async throws {
        let fixture = try SubmissionFixture()
        #expect(await fixture.service.submit(SubmissionFixture.request("model-b"), Submission(key: fixture.key("key-b"))).accepted != nil)
        let refusal = try #require(await fixture.service.submit(SubmissionFixture.request("model-b"), Submission(key: fixture.key("key-b"))).refusal)
        #expect(refusal.reason == .rateLimited && refusal.error.status == 429 && refusal.error.retryAfterSeconds != nil)
        fixture.clock.advance(by: .seconds(61))
        #expect(await fixture.service.submit(SubmissionFixture.request("model-b"), Submission(key: fixture.key("key-b"))).accepted != nil)
    }

    /// A refusal that cannot have created a job falls through to the alias's next target, which
    /// is re-priced; the first target's hold is released and its job forgotten.
    @Test func aRefusedTargetFallsBackToTheNextAndReleasesItsHold() async throws {
        let fixture = try SubmissionFixture()
        fixture.primary.script(.failure(ProviderError(kind: .serverError, httpStatus: 503, message: "busy")))
        let accepted = try #require(await fixture.service.submit(SubmissionFixture.request("both"), Submission(key: fixture.key("key-a"))).accepted)
        #expect(accepted.job.provider == "secondary" && accepted.price == Money(micros: 10_000))
        #expect(fixture.primary.received.count == 1 && fixture.secondary.received.count == 1)
        #expect(fixture.team.reserved == Money(micros: 10_000))
        let stored = try await fixture.stored()
        #expect(stored.jobs.map(\.id) == [accepted.job.id])
        #expect(stored.ledger.map(\.kind) == [.reserve], "the surviving job's lines; the refused one's hold was released")
        #expect(stored.ledgerBalances.map(\.reserved).reduce(.zero, +) == Money(micros: 10_000))
    }

    @Test func aRefusalWithNoTargetLeftReleasesEverything() async throws {
        let fixture = try SubmissionFixture()
        fixture.primary.script(.failure(ProviderError(kind: .contentPolicy, httpStatus: 400, message: "no")))
        let refusal = try #require(await fixture.service.submit(SubmissionFixture.request("model-a"), Submission(key: fixture.key("key-a"))).refusal)
        #expect(refusal.reason == .upstreamRefused && refusal.error.code == "content_policy_violation" && refusal.keptJobID == nil)
        #expect(fixture.team.reserved == .zero && fixture.team.spent == .zero)
        #expect(try await fixture.stored().jobs.isEmpty)
    }

    /// No usable answer: the provider may have made the job, so it is kept, failed and charged.
    @Test func anUnknownOutcomeKeepsTheJobFailedAndCharged() async throws {
        let fixture = try SubmissionFixture()
        fixture.primary.script(.failure(ProviderError(kind: .timeout, message: "no answer")))
        let refusal = try #require(await fixture.service.submit(SubmissionFixture.request("both"), Submission(key: fixture.key("key-a"))).refusal)
        #expect(refusal.reason == .upstreamOutcomeUnknown && refusal.error.status == 504)
        let id = try #require(refusal.keptJobID)
        #expect(fixture.jobs.job(id: id)?.status == .failed && fixture.jobs.job(id: id)?.billingStatus == .charged)
        #expect(fixture.secondary.received.isEmpty, "no fallback when a job may exist")
        #expect(fixture.team.spent == Money(micros: 30_000) && fixture.team.reserved == .zero)
    }

    /// The durable write comes before the provider call: when it fails nothing is sent and nothing stays held.
    @Test func aStoreThatCannotWriteRefusesWithNothingSentOrHeld() async throws {
        let fixture = try SubmissionFixture()
        fixture.store.failing.store(true, ordering: .relaxed)
        let refusal = try #require(await fixture.service.submit(SubmissionFixture.request("model-a"), Submission(key: fixture.key("key-a"))).refusal)
        #expect(refusal.reason == .storageUnavailable && refusal.error.status == 503 && refusal.error.code == "storage_unavailable")
        #expect(fixture.primary.received.isEmpty)
        #expect(fixture.team.reserved == .zero)
        #expect(fixture.jobs.residentCounts.open == 0)
    }

    @Test func anIdempotencyKeyReplaysItsJobAndRefusesAnotherRequest() async throws {
        let fixture = try SubmissionFixture()
        let claim = IdempotencyClaim(key: "order-1", requestHash: "h1")
        let first = try #require(await fixture.service.submit(
            SubmissionFixture.request("model-a"), Submission(key: fixture.key("key-a"), idempotency: claim)).accepted)
        let again = try #require(await fixture.service.submit(
            SubmissionFixture.request("model-a"), Submission(key: fixture.key("key-a"), idempotency: claim)).accepted)
        #expect(again.replayed && again.job.id == first.job.id && again.budgetRemaining == nil)
        #expect(fixture.primary.received.count == 1 && fixture.team.reserved == Money(micros: 30_000), "nothing reserved again")
        let other = try #require(await fixture.service.submit(
            SubmissionFixture.request("model-a", prompt: "other"), Submission(key: fixture.key("key-a"), idempotency: IdempotencyClaim(key: "order-1", requestHash: "h2"))).refusal)
        #expect(other.reason == .idempotencyKeyReused && other.error.status == 422)
        #expect(try await fixture.stored().idempotency.map(\.jobID) == [first.job.id], "the key is durable with its job")
    }

    /// A request refused for what it says is a final answer: a retry with the key gets it again,
    /// marked as a replay, without being decoded again.
    @Test func aRefusalOfTheRequestItselfIsReplayed() async throws {
        let fixture = try SubmissionFixture()
        let submission = Submission(key: fixture.key("key-a"), idempotency: IdempotencyClaim(key: "bad-1", requestHash: "h"))
        let invalid = APIError.parameter(.invalid, "prompt", "prompt must not be blank")
        let first = try #require(await fixture.service.submit(submission) { () throws(APIError) -> GenerationRequest in throw invalid }.refusal)
        #expect(first.error == invalid && !first.replayed)
        let second = try #require(await fixture.service.submit(submission) { () throws(APIError) -> GenerationRequest in
            Issue.record("a replay decodes nothing")
            return SubmissionFixture.request("model-a")
        }.refusal)
        #expect(second.replayed && second.error == invalid)
    }

    /// With a wait the answer holds the job until it ends, and says so.
    @Test func aWaitHoldsTheAnswerUntilTheJobEnds() async throws {
        let fixture = try SubmissionFixture()
        let waiting = Task { await fixture.service.submit(SubmissionFixture.request("model-a"), Submission(key: fixture.key("key-a"), wait: .seconds(30))) }
        try await eventually { fixture.jobs.waiterCount > 0 }
        #expect(fixture.jobs.waiterCount == 1, "the answer waits for the job")
        let jobID = try #require(fixture.jobs.residentJobs.first?.id)
        fixture.tracker.apply(ProviderJobSnapshot(providerJobID: "primary-1", status: .completed, providerStatus: "completed", resultURLs: ["https://x/1.png"]), to: jobID)
        let accepted = try #require(await waiting.value.accepted)
        #expect(accepted.job.status == .completed && accepted.waited == .seconds(30))
        #expect(fixture.team.spent == Money(micros: 30_000) && fixture.team.reserved == .zero)
    }
}
