import Foundation
import GatewayCore
import HTTPServer
import Logging

/// The gateway's own front door, `/v1/generations` (API.md §3), and the provider callbacks
/// (§6): decodes the wire shape, calls the submission service or job access, and renders their
/// outcomes as the gateway's JSON.
struct GenerationRoutes: Sendable {
    let auth: Authenticator
    let submissions: SubmissionService
    let access: JobAccess
    let jobs: JobRegistry
    let tracker: JobTracker
    let callbacks: CallbackRoute
    let logger: Logger

    func register(on router: inout Router) {
        router.add("POST", "/v1/generations") { request in await create(request) }
        router.add("GET", "/v1/generations") { request in await list(request) }
        router.add("GET", "/v1/generations/{id}") { request in await get(request) }
        router.add("DELETE", "/v1/generations/{id}") { request in await cancel(request) }
        router.add("POST", "\(CallbackRoute.pathPrefix)/{id}/{token}") { request in await callback(request) }
    }

    // MARK: POST /v1/generations

    func create(_ request: HTTPRequest) async -> HTTPResponse {
        var submission: Submission
        switch auth.requireKey(request) {
        case .success(let key): submission = Submission(key: key)
        case .failure(let error): return .error(error)
        }
        switch Self.preferredWait(request) {
        case .success(let wait): submission.wait = wait
        case .failure(let error): return .error(error)
        }
        if let idempotencyKey = request.headers["idempotency-key"] {
            guard !idempotencyKey.isEmpty, idempotencyKey.utf8.count <= IdempotencyKeys.maxKeyLength else {
                return .error(.parameter(.invalid, "Idempotency-Key", "Idempotency-Key must be 1 to \(IdempotencyKeys.maxKeyLength) characters"))
            }
            // The request is its body and its X-Webhook-URL (the only header that changes what it does).
            let hash = KeyRing.sha256Hex(String(decoding: request.body, as: UTF8.self) + "\u{0}" + (request.headers["x-webhook-url"] ?? ""))
            submission.idempotency = IdempotencyClaim(key: idempotencyKey, requestHash: hash)
        }
        let outcome = await submissions.submit(submission) { () throws(APIError) in try Self.decode(request) }
        switch outcome {
        case .accepted(let accepted): return Self.render(accepted)
        case .refused(let refusal): return .error(refusal)
        }
    }

    /// The body as a generation request, with `X-Webhook-URL` when the body names no webhook.
    static func decode(_ request: HTTPRequest) throws(APIError) -> GenerationRequest {
        if let type = request.headers["content-type"], !type.lowercased().hasPrefix("application/json") {
            throw APIError(status: 415, kind: .invalidRequest, code: "unsupported_media_type", message: "the body must be application/json")
        }
        var generation = try GenerationRequest.decode(request.body)
        if generation.webhookURL == nil { generation.webhookURL = try request.webhookURLHeader() }
        return generation
    }

    /// `Prefer: wait` / `wait=N` (API.md §3, the Replicate convention): how long to hold the
    /// answer, `nil` without the preference.
    static func preferredWait(_ request: HTTPRequest) -> Result<Duration?, APIError> {
        guard let header = request.headers["prefer"] else { return .success(nil) }
        for preference in header.split(separator: ",") {
            let parts = preference.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.first?.lowercased() == "wait" else { continue }
            guard parts.count == 2 else { return .success(.seconds(60)) }
            guard let seconds = Int(parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))), (1...60).contains(seconds) else {
                return .failure(.parameter(.invalid, "Prefer", "Prefer: wait=N takes N from 1 to 60 seconds"))
            }
            return .success(.seconds(seconds))
        }
        return .success(nil)
    }

    /// 202 with the job (200 once it is terminal, and for a replay), its location, cost and the
    /// budget left.
    static func render(_ accepted: AcceptedSubmission) -> HTTPResponse {
        let job = accepted.job
        var headers: HTTPHeaders = ["Location": "/v1/generations/\(job.id)"]
        headers.addSubmission(accepted)
        if accepted.replayed { headers.add(name: "Idempotent-Replayed", value: "true") }
        if let wait = accepted.waited { headers.add(name: "Preference-Applied", value: "wait=\(wait.components.seconds)") }
        return .json(accepted.replayed || job.status.isTerminal ? 200 : 202, job.jsonObject, headers: headers)
    }

    // MARK: Reads

    func get(_ request: HTTPRequest) async -> HTTPResponse {
        guard let caller = auth.caller(request) else { return .error(.invalidAPIKey()) }
        let id = request.pathParameters["id"] ?? ""
        let job: Job
        switch await access.visibleJob(id: id, to: caller) {
        case .success(let found): job = found
        case .failure(let error): return .error(error)
        }
        switch Self.preferredWait(request) {
        case .failure(let error): return .error(error)
        case .success(nil): return .json(200, job.jsonObject)
        case .success(let wait?):
            // Always 200 for a read; the job as it is when it ends or the wait runs out.
            var response = HTTPResponse.json(200, (await jobs.waitUntilTerminal(id: id, timeout: wait) ?? job).jsonObject)
            response.headers.add(name: "Preference-Applied", value: "wait=\(wait.components.seconds)")
            return response
        }
    }

    func list(_ request: HTTPRequest) async -> HTTPResponse {
        let key: AuthenticatedKey
        switch auth.requireKey(request) {
        case .success(let found): key = found
        case .failure(let error): return .error(error)
        }
        let query = request.queryParameters
        var limit = 20
        if let text = query["limit"] {
            guard let value = Int(text), (1...100).contains(value) else {
                return .error(.parameter(.invalid, "limit", "limit must be an integer from 1 to 100"))
            }
            limit = value
        }
        var status: JobStatus?
        if let text = query["status"], !text.isEmpty {
            guard let value = JobStatus(rawValue: text) else {
                return .error(.parameter(.invalid, "status", "status must be one of queued, running, completed, failed, cancelled"))
            }
            status = value
        }
        let cursor = query["after"].flatMap { $0.isEmpty ? nil : $0 }
        let page: (jobs: [Job], hasMore: Bool)
        do {
            page = try await jobs.page(owner: key.id, status: status, limit: limit, after: cursor)
        } catch {
            logger.error("cannot read stored generations", metadata: ["error": "\(error)"])
            return .error(.storageUnavailable)
        }
        let next = page.hasMore ? page.jobs.last.map { JSONText.quoted($0.id) } ?? "null" : "null"
        return .json(200, "{\"object\":\"list\",\"data\":[" + page.jobs.map(\.jsonObject).joined(separator: ",") + "],\"next\":\(next)}")
    }

    // MARK: DELETE /v1/generations/{id}

    func cancel(_ request: HTTPRequest) async -> HTTPResponse {
        guard let caller = auth.caller(request) else { return .error(.invalidAPIKey()) }
        switch await access.cancel(id: request.pathParameters["id"] ?? "", by: caller) {
        case .success(let job): return .json(200, job.jsonObject)
        case .failure(let error): return .error(error)
        }
    }

    // MARK: Provider callbacks

    /// A provider says a job changed. Unknown job or wrong token → 404; otherwise 200 at once and
    /// an open job is re-read from the provider (callbacks are unsigned, API.md §6). A finished
    /// job's late callback changes nothing.
    func callback(_ request: HTTPRequest) async -> HTTPResponse {
        let id = request.pathParameters["id"] ?? "", token = request.pathParameters["token"] ?? ""
        guard callbacks.tokens.verify(token, for: id) else {
            return .error(.notFound("no such callback"))
        }
        guard let job = jobs.job(id: id) else {
            // Not in memory: finished long ago (stored), or unknown.
            guard (try? await jobs.lookup(id: id)) != nil else { return .error(.notFound("no such callback")) }
            return .json(200, "{\"received\":true}")
        }
        guard !job.status.isTerminal else { return .json(200, "{\"received\":true}") }
        let tracker = self.tracker
        Task { await tracker.refresh(jobID: id) }
        return .json(200, "{\"received\":true}")
    }
}
