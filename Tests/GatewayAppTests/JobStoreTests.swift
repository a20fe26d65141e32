import GatewayCore
import Providers
import Storage
import Testing
@testable import GatewayApp

/// The in-memory working set on its own: waits, the finished order and eviction, the tally.
@Suite("Job store")
struct JobStoreTests {
    static func job(_ index: Int, owner: String = "key-a") -> Job {
        Job(id: "gen_\(1_000_000 + index)", ownerKeyID: owner, model: "krea-2-medium", provider: "krea", providerModel: "m",
            cost: Money(micros: 30_000), createdAt: Timestamp(unixMilliseconds: 1_763_700_000_000 + Int64(index)), metadata: nil, webhookURL: nil)
    }

    static func completed(_ store: JobStore, _ job: Job) {
        _ = store.apply(ProviderJobSnapshot(providerJobID: "p", status: .completed, providerStatus: "completed", resultURLs: ["u"]), to: job.id, at: .now())
    }

    @Test func aWaitThatEndsWithTheJobLeavesNoTimerBehind() async throws {
        let store = JobStore()
        let jobs = (0..<200).map { Self.job($0) }
        for job in jobs { store.insert(job) }
        try await withThrowingTaskGroup(of: Job?.self) { group in
            for job in jobs { group.addTask { await store.waitUntilTerminal(id: job.id, timeout: .seconds(60)) } }
            while store.waiterCount < jobs.count { try await Task.sleep(for: .milliseconds(5)) }
            for job in jobs { Self.completed(store, job) }
            for try await ended in group { #expect(ended?.status == .completed) }
        }
        #expect(store.waitTimerCount == 0)
        // A wait that runs out gets the job as it is, and leaves nothing either.
        let slow = Self.job(500)
        store.insert(slow)
        #expect(await store.waitUntilTerminal(id: slow.id, timeout: .milliseconds(30))?.status == .queued)
        #expect(store.waitTimerCount == 0 && store.waiterCount == 0)
    }

    @Test func evictionKeepsOpenJobsAndTheNewestFinishedAndTheTallyWhole() {
        let store = JobStore(keepingFinished: 3)
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
