import Foundation
import GatewayCore
import HTTPServer

/// A fake Evolink API (PROVIDERS.md §Evolink) on a real socket, for end-to-end tests, the demo
/// and benchmarks.
///
/// - `POST /v1/images/generations` (`model: "krea-2-turbo"`) → 200 with the pending task and its
///   credit reservation; optional `callback_url` for the terminal callback.
/// - `GET /v1/tasks/{task_id}` → the task; no cancel endpoint.
/// - Errors are `{"error": {"code": "<string>", "message": …, "type": …}}` (an integer code
///   under `[sim:intcode]`).
/// - A task walks pending → processing → completed (progress 0 → 50 → 100), one status per
///   `stepDelay`; `[sim:…]` markers in the prompt change that (see ``SimulatorMarkers``).
/// - Control: `POST /__sim/inject`, `GET|DELETE /__sim/received`, `GET /__sim/callbacks`.
public final class EvolinkSimulator: ProviderSimulator {
    /// The shared machinery: server, request log, callbacks, injected failures.
    public let core: SimulatorCore
    private let tasks: JobStore<EvolinkTask>

    /// A simulator that is not started yet.
    public init(configuration: SimulatorConfiguration) {
        core = SimulatorCore(configuration: configuration)
        tasks = JobStore(capacity: configuration.maxRetainedJobs)
    }

    /// Binds and starts serving Evolink's routes; returns the base URL (`http://127.0.0.1:<port>`).
    @discardableResult
    public func start() throws -> String {
        var router = Router(renderError: EvolinkError.renderError)
        router.add("POST", "/v1/images/generations") { [self] in await submit($0) }
        router.add("GET", "/v1/tasks/{id}") { [self] in read($0) }
        return try core.start(router: router, renderError: EvolinkError.renderError)
    }

    /// The task as `GET /v1/tasks/{id}` would show it now (objects as `[String: any Sendable]`,
    /// arrays as `[any Sendable]`), or nil when unknown or forgotten.
    public func job(id: String) -> [String: any Sendable]? {
        tasks.sendableJSON(id: id, stepDelay: core.configuration.stepDelay)
    }

    /// How many tasks are retained.
    public var retainedJobCount: Int { tasks.count }

    // MARK: Handlers

    private func submit(_ request: HTTPRequest) async -> HTTPResponse {
        guard core.isAuthorized(request) else { return EvolinkError.response(401) }
        if let status = core.takeInjectedFailure() { return EvolinkError.response(status) }
        var markers = SimulatorMarkers()
        let accepted: EvolinkRequestValidator.Accepted
        do {
            let value = try EvolinkRequestValidator.parse(request.body)
            if let prompt = value["prompt"]?.stringValue { markers = SimulatorMarkers(prompt: prompt) }
            accepted = try EvolinkRequestValidator.validate(value, enforceCallbackURLPolicy: core.configuration.enforceCallbackURLPolicy)
        } catch {
            switch error {
            case .invalidRequest(let message): return EvolinkError.response(400, message: message, integerCode: markers.integerCodes)
            case .modelAccessDenied(let message): return EvolinkError.response(403, message: message, integerCode: markers.integerCodes)
            }
        }
        switch markers.submission {
        case .normal: break
        case .httpStatus(let status): return EvolinkError.response(status, integerCode: markers.integerCodes)
        case .garbage: return SimulatedAnswers.garbage
        case .wrongShape:
            return .json(200, .object([("object", .string("image.generation.task")), ("status", .string("pending")), ("progress", .int(0))]))
        }
        let timeline = Timeline.now()
        var task: EvolinkTask
        repeat {
            task = EvolinkTask(
                id: EvolinkTask.makeID(unixSeconds: timeline.createdUnixSeconds), quality: accepted.quality, timeline: timeline,
                markers: markers, callbackURL: accepted.callbackURL, imageID: RandomUUID.make())
        } while !tasks.insert(task, id: task.id)
        core.scheduleTerminalCallback(for: task, in: tasks)
        if let delay = markers.delay { try? await Task.sleep(for: delay) }
        return .json(200, task.submissionJSON)
    }

    private func read(_ request: HTTPRequest) -> HTTPResponse {
        guard core.isAuthorized(request) else { return EvolinkError.response(401) }
        guard let id = request.pathParameters["id"], let task = tasks.get(id) else {
            return EvolinkError.response(404, message: "task not found")
        }
        return .json(200, task.json(at: .now, stepDelay: core.configuration.stepDelay))
    }
}
