import Foundation
import GatewayCore

/// An Evolink image task. Its status is computed on read from its creation time: pending →
/// processing → completed (progress 0 → 50 → 100), or failed per the markers (PROVIDERS.md
/// §Evolink: four statuses; a cancel shows as `failed` with `request_cancelled`).
struct EvolinkTask: SimulatedJob {
    enum Status: String, SimulatedStatus {
        case pending, processing, completed, failed

        var isTerminal: Bool { self == .completed || self == .failed }
    }

    static let model = "krea-2-turbo"

    let id: String
    let quality: String
    let timeline: Timeline
    let markers: SimulatorMarkers
    let callbackURL: String?
    let imageID: UUID

    /// `task-unified-<unix>-<8 chars>`.
    static func makeID(unixSeconds: Int64) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        let suffix = String((0..<8).map { _ in alphabet.randomElement()! })
        return "task-unified-\(unixSeconds)-\(suffix)"
    }

    /// The statuses the task walks through, one per step; the last is terminal unless the task
    /// never ends.
    var path: [Status] {
        switch markers.outcome {
        case .completed: return [.pending, .processing, .completed]
        case .failed, .policy: return [.pending, .processing, .failed]
        case .cancelled: return [.pending, .failed]
        case .never: return [.pending, .processing]
        }
    }

    /// `GET /v1/tasks/{id}`: `{created, id, model, object, progress, status, results?, error?,
    /// task_info, type}`.
    func json(at now: ContinuousClock.Instant, stepDelay: Duration) -> JSONValue {
        let status = walk(at: now, stepDelay: stepDelay).status
        var members = header(status: status)
        switch status {
        case .completed:
            members.append(("results", .array([.string("https://files.evolink.ai/\(Self.model)/\(imageID.uuidString.lowercased()).png")])))
        case .failed:
            let (code, message) = failure
            members.append(("error", .object([("code", .string(code)), ("message", .string(message)), ("type", .string("task_error"))])))
        case .pending, .processing:
            break
        }
        members.append(("task_info", taskInfo))
        members.append(("type", .string("image")))
        return .object(members)
    }

    /// The submission answer: the pending task with its credit reservation.
    var submissionJSON: JSONValue {
        var members = header(status: .pending)
        members.append(("task_info", taskInfo))
        members.append(("type", .string("image")))
        members.append(("usage", .object([
            ("billing_rule", .string("per_call")),
            ("credits_reserved", .number(quality == "2K" ? "1.8" : "0.45")),
            ("user_group", .string("default")),
        ])))
        return .object(members)
    }

    private func header(status: Status) -> [(key: String, value: JSONValue)] {
        let progress: Int
        switch status {
        case .pending: progress = 0
        case .processing: progress = 50
        case .completed: progress = 100
        // A failed task keeps the progress it had reached.
        case .failed: progress = markers.outcome == .cancelled ? 0 : 50
        }
        return [
            ("created", .int(timeline.createdUnixSeconds)),
            ("id", .string(id)),
            ("model", .string(Self.model)),
            ("object", .string("image.generation.task")),
            ("progress", .int(progress)),
            ("status", .string(status.rawValue)),
        ]
    }

    private var taskInfo: JSONValue {
        .object([("can_cancel", .bool(false)), ("estimated_time", .int(45))])
    }

    private var failure: (code: String, message: String) {
        switch markers.outcome {
        case .policy: return ("content_policy_violation", "the prompt was rejected by the content policy")
        case .cancelled: return ("request_cancelled", "the task was cancelled")
        default: return ("generation_failed_no_content", "the model returned no image")
        }
    }
}
