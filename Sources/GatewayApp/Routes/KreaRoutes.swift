import GatewayCore
import HTTPServer

/// The Krea-compatible front door (API.md §7): `POST /generate/image/krea/krea-2/{variant}`,
/// `GET /jobs/{id}`, `DELETE /jobs/{id}` in Krea's shapes, so an app written against Krea only
/// changes its base URL and key. `compat.krea_paths` says which gateway model each path variant
/// goes to, so the operator can move that traffic to another provider with no client change.
struct KreaRoutes: Sendable {
    let auth: Authenticator
    let submissions: SubmissionService
    let access: JobAccess
    let paths: [GatewayConfiguration.Compat.KreaVariant: String]

    /// Krea's body fields (its root object is closed: anything else is refused, as Krea does).
    static let fields: Set<String> = [
        "prompt", "aspect_ratio", "resolution", "seed", "creativity", "image_style_references", "moodboards", "styles",
        "intensity", "complexity", "movement",
    ]

    func register(on router: inout Router) {
        router.add("POST", "/generate/image/krea/krea-2/{variant}") { request in await create(request) }
        router.add("GET", "/jobs/{id}") { request in await get(request) }
        router.add("DELETE", "/jobs/{id}") { request in await cancel(request) }
    }

    func create(_ request: HTTPRequest) async -> HTTPResponse {
        let key: AuthenticatedKey
        switch auth.requireKey(request) {
        case .success(let found): key = found
        case .failure(let error): return Self.error(error)
        }
        let variantName = request.pathParameters["variant"] ?? ""
        guard let variant = GatewayConfiguration.Compat.KreaVariant(rawValue: variantName), let model = paths[variant] else {
            return Self.error(.notFound("no Krea model krea-2/\(variantName) here"))
        }
        var generation: GenerationRequest
        do throws(APIError) {
            guard case .object(let members) = try JSONValue.parseBody(request.body) else {
                throw APIError.parameter(.invalid, "body", "the body must be a JSON object")
            }
            if let unknown = members.first(where: { !Self.fields.contains($0.key) }) {
                throw APIError(status: 400, kind: .invalidRequest, code: "unknown_parameter", message: "unknown field \(unknown.key)", param: unknown.key)
            }
            // The same body with the model its path maps to, through the one strict decoder.
            generation = try GenerationRequest.decode(Array(JSONValue.object([("model", .string(model))] + members).serialized.utf8))
            generation.webhookURL = try request.webhookURLHeader()
        } catch {
            return Self.error(error)
        }
        switch await submissions.submit(generation, Submission(key: key, frontDoor: .krea)) {
        case .accepted(let accepted):
            // Krea answers 200 with the job in its initial state.
            var answer = HTTPResponse.json(200, Self.job(accepted.job))
            answer.headers.addSubmission(accepted)
            return answer
        case .refused(let refusal):
            var answer = Self.error(refusal.error)
            if let id = refusal.keptJobID { answer.headers.add(name: "X-Generation-Id", value: id) }
            return answer
        }
    }

    func get(_ request: HTTPRequest) async -> HTTPResponse {
        guard let caller = auth.caller(request) else { return Self.error(.invalidAPIKey()) }
        let id = request.pathParameters["id"] ?? ""
        switch await access.visibleJob(id: id, to: caller) {
        case .success(let job): return .json(200, Self.job(job))
        case .failure(let error) where error.status == 404: return Self.error(.notFound("no job \(id)"))
        case .failure(let error): return Self.error(error)
        }
    }

    func cancel(_ request: HTTPRequest) async -> HTTPResponse {
        guard let caller = auth.caller(request) else { return Self.error(.invalidAPIKey()) }
        switch await access.cancel(id: request.pathParameters["id"] ?? "", by: caller) {
        case .success(let job): return .json(200, Self.job(job))
        case .failure(let error): return Self.error(error)
        }
    }

    // MARK: Krea's shapes

    /// The job as Krea shows it: `job_id`, Krea's status names, `result.urls` or `result.error`.
    static func job(_ job: Job) -> String {
        let status: String = switch job.status {
        case .queued: "queued"
        case .running: "processing"
        case .completed: "completed"
        case .failed: "failed"
        case .cancelled: "cancelled"
        }
        var result = "null"
        if job.status == .completed, let urls = job.resultURLs {
            result = "{\"urls\":[" + urls.map(JSONText.quoted).joined(separator: ",") + "]}"
        } else if job.status == .failed {
            result = "{\"error\":" + JSONText.quoted(job.error?.message ?? "the generation failed") + "}"
        }
        return "{\"job_id\":\(JSONText.quoted(job.id)),\"status\":\"\(status)\",\"created_at\":\"\(job.createdAt.rfc3339)\""
            + ",\"completed_at\":" + (job.completedAt.map { "\"\($0.rfc3339)\"" } ?? "null") + ",\"result\":\(result)}"
    }

    /// Errors as Krea gives them (`{"error": "<message>"}`), with our code alongside.
    static func error(_ error: APIError) -> HTTPResponse {
        var response = HTTPResponse.json(error.status, "{\"error\":\(JSONText.quoted(error.message)),\"code\":\(JSONText.quoted(error.code))}")
        if let seconds = error.retryAfterSeconds { response.headers.add(name: "Retry-After", value: String(seconds)) }
        return response
    }
}
