import GatewayCore
import GatewayTestSupport
import Providers
import Testing
@testable import GatewayApp

/// The tracker on the manual clock: polls come when the clock says, not when a test has slept.
@Suite("Job tracker")
struct JobTrackerTests {

    /// The first poll comes one poll interval (2 s here) after submission, no sooner; a completed
    /// read settles the job: charged once.
    @Test func theFirstPollComesAfterOneIntervalAndACompletedReadSettles() async throws {
        let fixture = try SubmissionFixture()
        let accepted = try #require(await fixture.service.submit(SubmissionFixture.request("model-a"), Submission(key: fixture.key("key-a"))).accepted)
        try await eventually { fixture.clock.sleeperCount == 1 }
        fixture.clock.advance(by: .milliseconds(1_990))
        try await Task.sleep(for: .milliseconds(30))
        #expect(fixture.primary.reads.isEmpty, "no poll before its interval")
        fixture.primary.scriptFetch(ProviderJobSnapshot(providerJobID: "primary-1", status: .completed, providerStatus: "completed", resultURLs: ["https://x/1.png"]))
        fixture.clock.advance(by: .milliseconds(250))
        try await eventually { fixture.jobs.job(id: accepted.job.id)?.status == .completed }
        #expect(fixture.primary.reads == ["primary-1"])
        #expect(fixture.jobs.job(id: accepted.job.id)?.billingStatus == .charged)
        #expect(fixture.team.spent == Money(micros: 30_000) && fixture.team.reserved == .zero)
    }

    /// A job still running at `jobs.max_age_s` (60 s here) is failed `upstream_timeout` and charged:
    /// its outcome cannot be known any more. Polls back off meanwhile (2 s, then × 1.5 up to 30 s).
    @Test func aJobPastItsMaxAgeExpiresCharged() async throws {
        let fixture = try SubmissionFixture()
        let accepted = try #require(await fixture.service.submit(SubmissionFixture.request("model-a"), Submission(key: fixture.key("key-a"))).accepted)
        for _ in 0..<70 {
            try await eventually { fixture.clock.sleeperCount >= 1 }
            fixture.clock.advance(by: .seconds(1))
            try await Task.sleep(for: .milliseconds(2))
            if fixture.jobs.job(id: accepted.job.id)?.status.isTerminal == true { break }
        }
        try await eventually { fixture.jobs.job(id: accepted.job.id)?.status.isTerminal == true }
        let job = try #require(fixture.jobs.job(id: accepted.job.id))
        #expect(job.status == .failed && job.error?.code == "upstream_timeout" && job.billingStatus == .charged)
        let reads = fixture.primary.reads.count
        #expect(reads >= 4 && reads <= 12, "backed-off polls over 60 s, not one a second: \(reads)")
        #expect(fixture.team.spent == Money(micros: 30_000))
    }

    /// A callback flood (a leaked callback URL replayed): at most one provider read in flight and
    /// one a second per job; the callbacks in between fold into one trailing read. The state goes
    /// with the job.
    @Test func aCallbackFloodReadsTheProviderOnceASecond() async throws {
        let fixture = try SubmissionFixture()
        let accepted = try #require(await fixture.service.submit(SubmissionFixture.request("model-b"), Submission(key: fixture.key("key-a"))).accepted)
        let id = accepted.job.id
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<200 { group.addTask { await fixture.tracker.refresh(jobID: id) } }
            // The first read happens at once; the 199 others fold into one that waits.
            try? await eventually { fixture.secondary.reads.count == 1 && fixture.clock.sleeperCount == 2 }
            #expect(fixture.secondary.reads.count == 1, "one read, not 200")
            fixture.clock.advance(by: .milliseconds(999))
            try? await Task.sleep(for: .milliseconds(30))
            #expect(fixture.secondary.reads.count == 1, "not before a second has passed")
            fixture.clock.advance(by: .milliseconds(1))
            await group.waitForAll()
        }
        #expect(fixture.secondary.reads.count == 2, "the trailing read, once")
        // Another burst within the second after it: again one trailing read, no more.
        for _ in 0..<50 { Task { await fixture.tracker.refresh(jobID: id) } }
        try await eventually { fixture.clock.sleeperCount == 2 }
        #expect(fixture.secondary.reads.count == 2)
        fixture.secondary.scriptFetch(ProviderJobSnapshot(providerJobID: "secondary-1", status: .completed, providerStatus: "completed", resultURLs: ["u"]))
        fixture.clock.advance(by: .milliseconds(1000))  // 2 s: before the first poll (3 s, the default)
        try await eventually { fixture.jobs.job(id: id)?.status == .completed }
        #expect(fixture.secondary.reads.count == 3)
        try await eventually { fixture.tracker.refreshStateCount == 0 }
        #expect(fixture.tracker.refreshStateCount == 0, "nothing kept for a finished job")
    }
}
