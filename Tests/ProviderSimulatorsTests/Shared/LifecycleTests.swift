import Foundation
import Testing
@testable import ProviderSimulators

/// The lifecycles, read at chosen instants: deterministic, whatever the machine's load (the
/// socket tests only check that what a poller sees is in this order).
@Suite("Simulator lifecycles")
struct LifecycleTests {
    static let step = Duration.milliseconds(100)

    func kreaStatuses(_ prompt: String) -> [String] {
        let timeline = Timeline(created: .now, createdUnixMillis: 1_000)
        let job = KreaJob(id: "j", model: "krea-2/medium", timeline: timeline, markers: SimulatorMarkers(prompt: prompt),
                          webhookURL: nil, imageID: UUID(), cancelledAt: nil)
        return (0..<9).map { job.state(at: timeline.created + Self.step * $0 + .milliseconds(1), stepDelay: Self.step).status.rawValue }
    }

    @Test func krea_DefaultWalksQueuedProcessingSamplingCompleted() {
        #expect(kreaStatuses("p") == ["queued", "processing", "sampling", "completed", "completed", "completed", "completed", "completed", "completed"])
    }

    @Test func krea_AllStatusesWalksEveryNonTerminalStatus() {
        #expect(kreaStatuses("p [sim:allstatuses]")
                == ["backlogged", "queued", "scheduled", "processing", "sampling", "intermediate-complete", "completed", "completed", "completed"])
    }

    @Test func krea_NeverStopsAtProcessingAndFailEndsFailed() {
        #expect(Set(kreaStatuses("p [sim:never]").dropFirst()) == ["processing"])
        #expect(kreaStatuses("p [sim:fail]").last == "failed")
    }
}

/// Whether `seen` appears in `expected` in order (each seen status at or after the previous one).
func isInOrder(_ seen: [String], of expected: [String]) -> Bool {
    var index = expected.startIndex
    for status in seen {
        guard let found = expected[index...].firstIndex(of: status) else { return false }
        index = found
    }
    return true
}
