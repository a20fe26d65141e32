import Foundation
import GatewayCore
import HTTPServer

/// A fake Krea API (PROVIDERS.md §Krea) on a real socket, for end-to-end tests, the demo and
/// benchmarks.
///
/// - `POST /generate/image/krea/krea-2/{medium|large|medium-turbo}` → 200 with the queued job
///   (another model → 404); optional `X-Webhook-URL` header for the terminal callback.
/// - `GET /jobs/{id}` → the job; `DELETE /jobs/{id}` → cancels a non-terminal job (200), a
///   terminal one is a 400 `job is not cancellable`.
/// - Errors are `{"error": "<string>"}`, except **422 validation errors, which use
///   `{"message": "<string>"}`**, so clients exercise both shapes Krea is known to send.
/// - A job walks queued → processing → sampling → completed, one status per `stepDelay`;
///   `[sim:…]` markers in the prompt change that (see ``SimulatorMarkers``).
/// - Control: `POST /__sim/inject`, `GET|DELETE /__sim/received`, `GET /__sim/callbacks`.
public final class KreaSimulator: ProviderSimulator {
    /// The model path segments Krea serves.
    static let models: Set<String> = ["medium", "large", "medium-turbo"]

    /// The shared machinery: server, request log, callbacks, injected failures.
    public let core: SimulatorCore
    private let jobs: JobStore<KreaJob>

    /// A simulator that is not started yet.
    public init(configuration: SimulatorConfiguration) {
        core = SimulatorCore(configuration: configuration)
        jobs = JobStore(capacity: configuration.maxRetainedJobs)
    }

    /// Binds and starts serving Krea's routes (and OpenAI's images endpoint); returns the base
    /// URL (`http://127.0.0.1:<port>`).
    @discardableResult
    public func start() throws -> String {
        var router = Router(renderError: Self.renderError)
        router.add("POST", "/generate/image/krea/krea-2/{model}") { [self] in await submit($0) }
        router.add("GET", "/jobs/{id}") { [self] in read($0) }
        router.add("DELETE", "/jobs/{id}") { [self] in cancel($0) }
        router.add("POST", "/v1/images/generations") { [self] in OpenAIImagesEndpoint.generate($0, core: core) }
        return try core.start(router: router, renderError: Self.renderError)
    }

    /// The job as `GET /jobs/{id}` would show it now: `job_id`, `status`, `created_at`,
    /// `completed_at` and `result` (objects as `[String: any Sendable]`, arrays as
    /// `[any Sendable]`, null as `NSNull`), or nil when unknown or forgotten.
    public func job(id: String) -> [String: any Sendable]? {
        jobs.sendableJSON(id: id, stepDelay: core.configuration.stepDelay)
    }

    /// How many jobs are retained.
    public var retainedJobCount: Int { jobs.count }

    // MARK: Handlers

    private func submit(_ request: HTTPRequest) async -> HTTPResponse {
        guard let model = request.pathParameters["model"], Self.models.contains(model) else {
            return Self.error(404, "model not found")
        }
        guard core.isAuthorized(request) else { return Self.error(401) }
        if let status = core.takeInjectedFailure() { return Self.error(status) }
        let prompt: String
        do {
            prompt = try KreaRequestValidator.validate(request.body)
        } catch {
            switch error {
            case .badRequest(let message): return Self.error(400, message)
            case .unprocessable(let message): return Self.error(422, message)
            }
        }
        let markers = SimulatorMarkers(prompt: prompt)
        switch markers.submission {
        case .normal: break
        case .httpStatus(let status): return Self.error(status)
        case .garbage: return SimulatedAnswers.garbage
        case .wrongShape:
            return .json(200, .object([("status", .string("queued")), ("created_at", .string(RFC3339.format(unixMillis: Timeline.now().createdUnixMillis)))]))
        }
        let webhookURL = request.headers["x-webhook-url"].flatMap { $0.isEmpty ? nil : $0 }
        let job = KreaJob(
            id: RandomUUID.string(), model: model, timeline: .now(), markers: markers,
            webhookURL: webhookURL, imageID: RandomUUID.make(), cancelledAt: nil)
        _ = jobs.insert(job, id: job.id)
        core.scheduleTerminalCallback(for: job, in: jobs)
        if let delay = markers.delay { try? await Task.sleep(for: delay) }
        return .json(200, job.initialJSON)
    }

    private func read(_ request: HTTPRequest) -> HTTPResponse {
        guard core.isAuthorized(request) else { return Self.error(401) }
        guard let id = request.pathParameters["id"], let job = jobs.get(id) else { return Self.error(404, "job not found") }
        return .json(200, job.json(at: .now, stepDelay: core.configuration.stepDelay))
    }

    private func cancel(_ request: HTTPRequest) -> HTTPResponse {
        guard core.isAuthorized(request) else { return Self.error(401) }
        let stepDelay = core.configuration.stepDelay
        let now = ContinuousClock.now
        guard let id = request.pathParameters["id"],
              let (cancelled, job) = jobs.update(id, { job -> (Bool, KreaJob) in
                  guard !job.state(at: now, stepDelay: stepDelay).status.isTerminal else { return (false, job) }
                  job.cancelledAt = now
                  return (true, job)
              })
        else { return Self.error(404, "job not found") }
        guard cancelled else { return Self.error(400, "job is not cancellable") }
        let body = job.json(at: now, stepDelay: stepDelay)
        if let url = job.webhookURL, !job.markers.noCallback {
            core.callbacks.deliver(jobID: job.id, url: url, body: Array(body.serialized.utf8))
        }
        return .json(200, body)
    }

    // MARK: Errors

    /// Krea's error body for a status: `{"error": …}`, or `{"message": …}` for a 422.
    static func error(_ status: Int, _ message: String? = nil) -> HTTPResponse {
        let text = message ?? defaultMessage(status)
        return .json(status, .object([(status == 422 ? "message" : "error", .string(text))]))
    }

    static func defaultMessage(_ status: Int) -> String {
        switch status {
        case 400: return "bad request"
        case 401: return "invalid or missing API token"
        case 402: return "insufficient balance"
        case 403: return "forbidden"
        case 404: return "not found"
        case 422: return "validation failed"
        case 429: return "rate limit exceeded"
        case 500...599: return "internal error"
        default: return "request failed"
        }
    }

    /// The server's own errors (404 route, 405, 413, …) in Krea's shape.
    static let renderError: HTTPErrorRenderer = { failure in
        var response = error(failure.status, failure.message)
        for field in failure.headers { response.headers.add(name: field.name, value: field.value) }
        return response
    }
}
