import Foundation
import GatewayCore

/// A Krea job: how it was created and what the test asked of it. Its status is computed on read
/// from its creation time (PROVIDERS.md §Krea: nine statuses, terminal ⇔ `completed_at` set).
struct KreaJob: SimulatedJob {
    /// Krea's job statuses.
    enum Status: String, SimulatedStatus, CaseIterable {
        case backlogged, queued, scheduled, processing, sampling
        case intermediateComplete = "intermediate-complete"
        case completed, failed, cancelled

        var isTerminal: Bool { self == .completed || self == .failed || self == .cancelled }
    }

    let id: String
    let model: String
    let timeline: Timeline
    let markers: SimulatorMarkers
    /// From `X-Webhook-URL`.
    let webhookURL: String?
    /// The image of a completed job.
    let imageID: UUID
    /// Set by `DELETE /jobs/{id}` while the job was not terminal.
    var cancelledAt: ContinuousClock.Instant?

    /// The statuses the job walks through, one per step; the last is terminal unless the job never ends.
    var path: [Status] {
        let walk: [Status] = markers.allStatuses
            ? [.backlogged, .queued, .scheduled, .processing, .sampling, .intermediateComplete]
            : [.queued, .processing, .sampling]
        switch markers.outcome {
        case .completed: return walk + [.completed]
        // `[sim:cancelled]` is Evolink's; on Krea it fails like `[sim:fail]`.
        case .failed, .policy, .cancelled: return walk + [.failed]
        case .never: return Array(walk.prefix(through: walk.firstIndex(of: .processing)!))
        }
    }

    var callbackURL: String? { webhookURL }

    var isCancelledByClient: Bool { cancelledAt != nil }

    /// The status and completion time (wall-clock ms) at `now`.
    func state(at now: ContinuousClock.Instant, stepDelay: Duration) -> (status: Status, completedAt: Int64?) {
        if let cancelledAt, cancelledAt <= now { return (.cancelled, timeline.unixMillis(of: cancelledAt)) }
        let (step, status) = walk(at: now, stepDelay: stepDelay)
        return (status, status.isTerminal ? timeline.unixMillis(ofStep: step, stepDelay: stepDelay) : nil)
    }

    /// The job object at `now`: `{job_id, status, created_at, completed_at, result}`.
    func json(at now: ContinuousClock.Instant, stepDelay: Duration) -> JSONValue {
        let (status, completedAt) = state(at: now, stepDelay: stepDelay)
        return json(status: status, completedAt: completedAt)
    }

    /// The job object as the submission answers it: its first status.
    var initialJSON: JSONValue { json(status: path[0], completedAt: nil) }

    private func json(status: Status, completedAt: Int64?) -> JSONValue {
        .object([
            ("job_id", .string(id)),
            ("status", .string(status.rawValue)),
            ("created_at", .string(RFC3339.format(unixMillis: timeline.createdUnixMillis))),
            ("completed_at", completedAt.map { .string(RFC3339.format(unixMillis: $0)) } ?? .null),
            ("result", result(for: status)),
        ])
    }

    private func result(for status: Status) -> JSONValue {
        switch status {
        case .completed:
            return .object([("urls", .array([.string("https://gen.krea.ai/images/\(imageID.uuidString.lowercased()).png")]))])
        case .failed:
            let policy = markers.outcome == .policy
            let message = policy ? "prompt rejected by the content policy" : "generation failed"
            guard markers.errorObject else { return .object([("error", .string(message))]) }
            return .object([("error", .object([
                ("code", .string(policy ? "content_policy_violation" : "generation_failed")),
                ("message", .string(message)),
            ]))])
        default:
            return .null
        }
    }
}
