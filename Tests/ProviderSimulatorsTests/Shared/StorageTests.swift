import Testing
@testable import ProviderSimulators

@Suite("JobStore, BoundedLog, Timeline")
struct StorageTests {
    @Test func jobStore_ForgetsTheOldestBeyondCapacity() {
        let store = JobStore<Int>(capacity: 3)
        for index in 0..<5000 { #expect(store.insert(index, id: "job-\(index)")) }
        #expect(store.count == 3)
        #expect(store.get("job-4996") == nil)
        #expect(store.get("job-4997") == 4997 && store.get("job-4999") == 4999)
    }

    @Test func jobStore_RefusesATakenIdAndUpdatesInPlace() {
        let store = JobStore<Int>(capacity: 10)
        #expect(store.insert(1, id: "a"))
        #expect(!store.insert(2, id: "a"))
        #expect(store.update("a") { value -> Int in value += 10; return value } == 11)
        #expect(store.get("a") == 11)
        #expect(store.update("missing") { _ in 0 } == nil)
    }

    @Test func boundedLog_KeepsTheNewestInOrder() {
        let log = BoundedLog<Int>(capacity: 4)
        for value in 0..<1000 { log.append(value) }
        #expect(log.snapshot() == [996, 997, 998, 999])
        log.removeAll()
        #expect(log.snapshot().isEmpty)
    }

    @Test func rfc3339_FormatsUTCWithMilliseconds() {
        #expect(RFC3339.format(unixMillis: 0) == "1970-01-01T00:00:00.000Z")
        #expect(RFC3339.format(unixMillis: 1_772_357_400_125) == "2026-03-01T09:30:00.125Z")
    }

    @Test func timeline_StepIsClampedAndZeroDelayIsImmediatelyLast() {
        let timeline = Timeline(created: .now, createdUnixMillis: 1000)
        let step: Duration = .milliseconds(10)
        #expect(timeline.step(at: timeline.created, stepDelay: step, lastStep: 3) == 0)
        #expect(timeline.step(at: timeline.created + .milliseconds(25), stepDelay: step, lastStep: 3) == 2)
        #expect(timeline.step(at: timeline.created + .seconds(5), stepDelay: step, lastStep: 3) == 3)
        #expect(timeline.step(at: timeline.created, stepDelay: .zero, lastStep: 3) == 3)
        #expect(timeline.unixMillis(ofStep: 3, stepDelay: step) == 1030)
    }
}
