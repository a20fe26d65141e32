import GatewayCore
import GatewayTestSupport
import Providers
import Storage
import Testing
@testable import GatewayApp

/// The in-memory working set on its own: waits, the finished order and eviction, the tally.
@Suite("Job registry")
struct JobRegistryTests {
    static func job(_ index: Int, owner: String = "key-a") -> Job {
        Job(id: "gen_\(1_000_000 + index)", ownerKeyID: owner, model: "krea-2-medium", provider: "krea", providerModel: "m",
            cost: Money(micros: 30_000), createdAt: Timestamp(unixMilliseconds: 1_763_700_000_000 + Int64(index)), metadata: nil, webhookURL: nil)
    }

    static func completed(_ store: JobRegistry, _ job: Job) {
        _ = store.apply(ProviderJobSnapshot(providerJobID: "p", status: .completed, providerStatus: "completed", resultURLs: ["u"]), to: job.id, at: .now())
    }


    @Test func waitsEndWithTheirJobOrAtTheirDeadline() async throws {
        let clock = ManualClock()
        let store = JobRegistry(clock: clock)
        let jobs = (0..<200).map { Self.job($0) }
        for job in jobs { store.insert(job) }
        try await withThrowingTaskGroup(of: Job?.self) { group in
            for job in jobs { group.addTask { await store.waitUntilTerminal(id: job.id, timeout: .seconds(60)) } }
            while store.waiterCount < jobs.count { try await Task.sleep(for: .milliseconds(5)) }
            #expect(store.waitSleeperArmed)
            for job in jobs { Self.completed(store, job) }
            for try await ended in group { #expect(ended?.status == .completed) }
        }
        #expect(store.waiterCount == 0)
        // Their deadlines stay until due (or until stale ones outnumber live ones): one entry each, no task.
        #expect(store.waitDeadlineCount == jobs.count)
        // A wait that runs out gets the job as it is, though a later deadline was armed first.
        let slow = Self.job(500)
        store.insert(slow)
        let slowWait = Task { await store.waitUntilTerminal(id: slow.id, timeout: .milliseconds(30)) }
        try await eventually { store.waiterCount == 1 }
        clock.advance(by: .milliseconds(29))
        try await Task.sleep(for: .milliseconds(20))
        #expect(store.waiterCount == 1, "not before its deadline")
        clock.advance(by: .milliseconds(11))
        #expect(await slowWait.value?.status == .queued)
        #expect(store.waiterCount == 0)
        // Unknown and finished jobs answer at once.
        #expect(await store.waitUntilTerminal(id: "gen_unknown", timeout: .seconds(60)) == nil)
        #expect(await store.waitUntilTerminal(id: jobs[0].id, timeout: .seconds(60))?.status == .completed)
    }

    /// Short and long waits mixed: each ends at its own time, and the long ones still end with their job.
    @Test func shortWaitsAfterLongOnesEndOnTime() async throws {
        let clock = ManualClock()
        let store = JobRegistry(clock: clock)
        let long = Self.job(1), short = Self.job(2)
        store.insert(long)
        store.insert(short)
        async let longWait = store.waitUntilTerminal(id: long.id, timeout: .seconds(60))
        try await eventually { store.waiterCount == 1 }
        let shortWait = Task { await store.waitUntilTerminal(id: short.id, timeout: .milliseconds(20)) }
        try await eventually { store.waiterCount == 2 }
        clock.advance(by: .milliseconds(30))
        #expect(await shortWait.value?.status == .queued)
        #expect(store.waiterCount == 1)
        Self.completed(store, long)
        #expect(await longWait?.status == .completed)
        #expect(store.waiterCount == 0)
    }

    /// Many clients waiting on one job with the same time run out together, and all get the job;
    /// a wait far longer than any clock can count still ends with its job.
    @Test func manyWaitsOnOneJobRunOutTogether() async throws {
        let clock = ManualClock()
        let store = JobRegistry(clock: clock)
        let job = Self.job(7)
        store.insert(job)
        let answers = try await withThrowingTaskGroup(of: Job?.self) { group -> [Job?] in
            for _ in 0..<2_000 { group.addTask { await store.waitUntilTerminal(id: job.id, timeout: .milliseconds(50)) } }
            try await eventually { store.waiterCount == 2_000 && clock.sleeperCount > 0 }
            #expect(clock.sleeperCount == 1, "one sleeping task for every deadline")
            clock.advance(by: .milliseconds(60))
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(answers.count == 2_000 && answers.allSatisfy { $0?.status == .queued })
        #expect(store.waiterCount == 0)
        async let endless = store.waitUntilTerminal(id: job.id, timeout: .seconds(1_000_000_000_000))
        while store.waiterCount < 1 { try await Task.sleep(for: .milliseconds(2)) }
        Self.completed(store, job)
        #expect(await endless?.status == .completed)
    }

    /// Deadlines of waits that ended with their job are dropped once they outnumber live waits, so a
    /// busy `Prefer: wait` door does not hold one entry per request for the whole wait time.
    @Test func staleDeadlinesAreDroppedWhenTheyOutnumberLiveWaits() async throws {
        let store = JobRegistry()
        let count = JobRegistry.staleDeadlineSlack + 500
        let jobs = (0..<count).map { Self.job($0) }
        for job in jobs { store.insert(job) }
        try await withThrowingTaskGroup(of: Job?.self) { group in
            for job in jobs { group.addTask { await store.waitUntilTerminal(id: job.id, timeout: .seconds(600)) } }
            while store.waiterCount < jobs.count { try await Task.sleep(for: .milliseconds(5)) }
            for job in jobs { Self.completed(store, job) }
            for try await _ in group {}
        }
        #expect(store.waitDeadlineCount == count)
        let open = Self.job(count + 1)
        store.insert(open)
        async let wait = store.waitUntilTerminal(id: open.id, timeout: .seconds(600))
        while store.waiterCount < 1 { try await Task.sleep(for: .milliseconds(2)) }
        // The insertion found every earlier entry stale: only the live one is left.
        #expect(store.waitDeadlineCount == 1)
        Self.completed(store, open)
        #expect(await wait?.status == .completed)
    }

    @Test func evictionKeepsOpenJobsAndTheNewestFinishedAndTheTallyWhole() {
        let store = JobRegistry(keepingFinished: 3)
        let jobs = (0..<10).map { Self.job($0, owner: $0 % 2 == 0 ? "key-a" : "key-b") }
        for job in jobs { store.insert(job) }
        for job in jobs.prefix(8) { Self.completed(store, job) }
        // Nothing finished after the marker leaves: a job stays a whole sweep after it finishes.
        #expect(store.evict(finishedBy: 0).isEmpty)
        let marker = store.finishMarker
        let evicted = store.evict(finishedBy: marker)
        #expect(evicted == jobs.prefix(5).map(\.id))
        #expect(store.residentCounts.open == 2 && store.residentCounts.finished == 3)
        #expect(store.residentJobs.count == 5)
        let tally = store.tally.groups.values.reduce(0) { $0 + $1.count }
        #expect(tally == 10)
        // A job brought back (to refund it) goes to the end of the finished order.
        var stored = jobs[0]
        stored.status = .completed
        stored.billingStatus = .charged
        let back = store.rehydrate(stored)
        #expect(back.inserted && store.residentCounts.finished == 4)
        #expect(store.evict(finishedBy: store.finishMarker) == [jobs[5].id])
        #expect(store.job(id: jobs[0].id) != nil)
    }
}
