import Foundation
import GatewayCore
import HTTPServer
import Logging
import Providers
import Storage
import Webhooks

/// `/v1/generations` and the provider callbacks (API.md §3, §6): HTTP in, domain calls, HTTP out.
struct GenerationRoutes: Sendable {
    let keys: KeyRing
    let masterKey: String
    let models: LiveModels
    let store: JobStore
    let journal: any StateStore
    let tracker: JobTracker
    let ledger: Ledger
    let rateLimiter: RateLimiter
    let callbackTokens: CallbackToken
    let idempotency: IdempotencyKeys
    let publicBaseURL: String?
    let webhookPolicy: URLPolicy
    let defaultWebhookSecret: Secret?
    let logger: Logger

    static let callbackPathPrefix = "/v1/provider-callbacks"

    func register(on router: inout Router) {
        router.add("POST", "/v1/generations") { request in await create(request) }
        router.add("GET", "/v1/generations") { request in await list(request) }
        router.add("GET", "/v1/generations/{id}") { request in await get(request) }
        router.add("DELETE", "/v1/generations/{id}") { request in await cancel(request) }
        router.add("POST", "\(Self.callbackPathPrefix)/{id}/{token}") { request in await callback(request) }
    }

    // MARK: Authentication

    func caller(_ request: HTTPRequest) -> Caller? {
        guard let token = KeyRing.bearerToken(request.headers["authorization"]) else { return nil }
        if ConstantTime.equals(token, masterKey) {
            RequestLog.current?.keyID = "admin"
            return .master
        }
        let key = keys.authenticate(token: token)
        if let key { RequestLog.current?.keyID = key.id }
        return key.map(Caller.key)
    }

    func requireKey(_ request: HTTPRequest) -> Result<AuthenticatedKey, APIError> {
        switch caller(request) {
        case .key(let key): return .success(key)
        case .master: return .failure(APIError(status: 403, kind: .permission, code: "key_required", message: "this route takes a gateway key; the master key reads jobs through /admin"))
        case .none: return .failure(.invalidAPIKey())
        }
    }

    // MARK: POST /v1/generations

    func create(_ request: HTTPRequest) async -> HTTPResponse {
        let key: AuthenticatedKey
        switch requireKey(request) {
        case .success(let found): key = found
        case .failure(let error): return .error(error)
        }
        let wait: Duration?
        switch Self.preferredWait(request) {
        case .success(let found): wait = found
        case .failure(let error): return .error(error)
        }
        guard let idempotencyKey = request.headers["idempotency-key"] else {
            return await waiting(await create(request, key: key, idempotency: nil), for: wait)
        }
        guard !idempotencyKey.isEmpty, idempotencyKey.utf8.count <= IdempotencyKeys.maxKeyLength else {
            return .error(.parameter(.invalid, "Idempotency-Key", "Idempotency-Key must be 1 to \(IdempotencyKeys.maxKeyLength) characters"))
        }
        // The request is its body and its X-Webhook-URL (the only header that changes what it does).
        let requestHash = KeyRing.sha256Hex(String(decoding: request.body, as: UTF8.self) + "\u{0}" + (request.headers["x-webhook-url"] ?? ""))
        switch await idempotency.begin(owner: key.id, key: idempotencyKey, requestHash: requestHash) {
        case .reused:
            return .error(APIError(status: 422, kind: .invalidRequest, code: "idempotency_key_reused",
                                   message: "this Idempotency-Key was used with a different body", param: "Idempotency-Key"))
        case .replay(let record):
            if let jobID = record.jobID, let job = try? await store.lookup(id: jobID) {
                var headers: HTTPHeaders = ["Location": "/v1/generations/\(job.id)", "X-Generation-Id": job.id, "Idempotent-Replayed": "true"]
                headers.add(name: "X-Gateway-Cost-USD", value: job.cost.apiString)
                return await waiting(.json(200, job.jsonObject, headers: headers), for: wait)
            }
            var replayed = HTTPResponse.json(record.responseStatus ?? 500, record.responseBody ?? "{}")
            replayed.headers.add(name: "Idempotent-Replayed", value: "true")
            return replayed
        case .proceed:
            let response = await create(request, key: key, idempotency: (idempotencyKey, requestHash))
            let record = idempotency.finish(
                owner: key.id, key: idempotencyKey, jobID: response.headers["x-generation-id"], status: response.status,
                body: String(decoding: response.body, as: UTF8.self))
            // A job's record went to disk with the job (in `submit`); an error's need not wait.
            if let record, record.jobID == nil { _ = journal.enqueue([.idempotency(record)]) }
            return await waiting(response, for: wait)
        }
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

    /// Holds a 202 until its job is terminal (→ 200 with the job) or `wait` passes (→ 202 with the
    /// job as it is then). Suspends the request's task only: no thread or connection is blocked.
    func waiting(_ response: HTTPResponse, for wait: Duration?) async -> HTTPResponse {
        guard let wait, response.status == 202 || response.status == 200, let id = response.headers["x-generation-id"] else { return response }
        var answer = response
        answer.headers.replaceOrAdd(name: "Preference-Applied", value: "wait=\(wait.components.seconds)")
        guard response.status == 202, let job = await store.waitUntilTerminal(id: id, timeout: wait) else { return answer }
        answer.body = Array(job.jsonObject.utf8)
        if job.status.isTerminal { answer.status = 200 }
        return answer
    }

    func create(_ request: HTTPRequest, key: AuthenticatedKey, idempotency: (key: String, hash: String)?) async -> HTTPResponse {
        if let type = request.headers["content-type"], !type.lowercased().hasPrefix("application/json") {
            return .error(APIError(status: 415, kind: .invalidRequest, code: "unsupported_media_type", message: "the body must be application/json"))
        }
        var generation: GenerationRequest
        do throws(APIError) {
            generation = try GenerationRequest.decode(request.body)
            if generation.webhookURL == nil { generation.webhookURL = try Self.webhookHeader(request) }
        } catch {
            return .error(error)
        }
        return await admit(generation, key: key, idempotency: idempotency)
    }

    /// `X-Webhook-URL`, checked for length (the policy is checked in `admit`).
    static func webhookHeader(_ request: HTTPRequest) throws(APIError) -> String? {
        guard let header = request.headers["x-webhook-url"] else { return nil }
        guard !header.isEmpty, header.utf8.count <= GenerationRequest.maxWebhookURLLength else {
            throw APIError(status: 400, kind: .invalidRequest, code: "invalid_webhook_url", message: "X-Webhook-URL must be a URL of at most 2048 characters", param: "webhook_url")
        }
        return header
    }

    /// Everything after decoding, for every front door: the webhook policy, the model, the key's
    /// model list, the routed model's capabilities, then admission and submission.
    func admit(_ generation: GenerationRequest, key: AuthenticatedKey, frontDoor: FrontDoor = .gateway,
               idempotency: (key: String, hash: String)? = nil) async -> HTTPResponse {
        do throws(APIError) {
            // API.md §5: checked at submission (and again at delivery against the resolved address).
            if let url = generation.webhookURL {
                if case .failure(let violation) = webhookPolicy.check(url) {
                    throw APIError(status: 400, kind: .invalidRequest, code: "invalid_webhook_url", message: "webhook_url refused: \(violation)", param: "webhook_url")
                }
                // Every event is signed: without a key secret or webhooks.secret none could be.
                if keys.key(id: key.id)?.webhookSecret == nil, defaultWebhookSecret == nil {
                    throw APIError(status: 400, kind: .invalidRequest, code: "invalid_webhook_url",
                                   message: "no webhook signing secret is configured for this key (set keys[].webhook_secret or webhooks.secret)", param: "webhook_url")
                }
            }
        } catch {
            return .error(error)
        }
        guard let targets = models.resolve(generation.model), let first = targets.first else {
            return .error(.parameter(.invalid, "model", "unknown model \(generation.model)").with(code: "unknown_model"))
        }
        if let allowed = key.allowedModels, !allowed.contains(generation.model) {
            return .error(APIError(status: 403, kind: .permission, code: "model_not_allowed", message: "this key may not use model \(generation.model)", param: "model"))
        }
        do throws(APIError) {
            try generation.validate(for: first.capabilities, model: first.model.name, provider: first.model.provider)
        } catch {
            return .error(error)
        }
        return await submit(generation, key: key, targets: targets, frontDoor: frontDoor, idempotency: idempotency)
    }

    /// Admits and submits: rate limits, then for each target in order the price is reserved in
    /// every budget (all or nothing) before the provider is called. The next target is tried only
    /// when the previous refused or failed the submission in a way that cannot have created a job
    /// (CONFIG.md `aliases`), re-priced and re-reserved for that target.
    func submit(_ generation: GenerationRequest, key: AuthenticatedKey, targets: [ModelTable.Target], frontDoor: FrontDoor = .gateway,
                idempotency: (key: String, hash: String)? = nil) async -> HTTPResponse {
        let admittedAt = Timestamp.now()
        if case .failure(let error) = rateLimiter.admit(keyID: key.id, limits: key.limits, at: admittedAt) {
            return .error(error)
        }
        let budgets = keys.applicableBudgets(for: key)
        var counted = false
        for (index, target) in targets.enumerated() {
            if index > 0 {
                // A fallback target must accept the request as it is; otherwise stop here.
                guard (try? generation.validate(for: target.capabilities, model: target.model.name, provider: target.model.provider)) != nil else { break }
            }
            let price = target.model.price.price(for: generation)
            let now = Timestamp.now()
            var job = Job(
                id: GenerationID.make(at: now), ownerKeyID: key.id, model: generation.model, provider: target.model.provider,
                providerModel: target.model.upstreamModel, cost: price, createdAt: now,
                metadata: generation.metadata, webhookURL: generation.webhookURL)
            job.team = key.team
            job.frontDoor = frontDoor
            let reservation: Ledger.Reservation
            switch ledger.reserve(jobID: job.id, price: price, budgets: budgets, at: now) {
            case .failure(let exceeded):
                rateLimiter.rollBack(keyID: key.id, admittedAt: admittedAt)
                return .error(exceeded.apiError)
            case .success(let held):
                reservation = held
                if !counted {
                    counted = true
                    let day = Ledger.Window(period: .daily, start: BudgetWindow.start(of: .daily, containing: now))
                    rateLimiter.count(keyID: key.id, in: Array(Set([day] + held.accounts.values)))
                }
            }
            store.insert(job)
            // Write-ahead: the job and its hold are on disk before the provider hears of it, so
            // a crash from here on can never lose money that a provider may spend.
            do throws(StoreError) {
                try await journal.commit([.job(job)] + reservation.entries(.reserve, jobID: job.id, at: now).map(StateChange.ledger))
            } catch {
                ledger.settle(jobID: job.id, .release)
                store.remove(id: job.id)
                rateLimiter.rollBack(keyID: key.id, admittedAt: admittedAt)
                logger.error("state store write failed", metadata: ["error": "\(error)"])
                return .error(Self.storageUnavailable)
            }
            let callbackURL = publicBaseURL.map { "\($0)\(Self.callbackPathPrefix)/\(job.id)/\(callbackTokens.token(for: job.id))" }
            do {
                let snapshot = try await target.provider.submit(generation, upstreamModel: target.model.upstreamModel, callbackURL: callbackURL)
                guard let submitted = store.submitted(id: job.id, snapshot: snapshot) else { break }
                var changes: [StateChange] = [.job(submitted)]
                if let idempotency {
                    // Durable with the job: after a crash the key still finds it.
                    changes.append(.idempotency(IdempotencyRecord(
                        ownerKeyID: key.id, key: idempotency.key, requestHash: idempotency.hash, jobID: job.id, responseStatus: 202, createdAt: now)))
                }
                _ = journal.enqueue(changes)
                tracker.apply(snapshot, to: job.id)
                let current = store.job(id: job.id) ?? submitted
                // The job exists at the provider now: follow it whatever happens to the disk.
                if !current.status.isTerminal { tracker.track(current) }
                // A 202 means the provider's job id is on disk too: after a crash the job is
                // polled to its end instead of being guessed at. (What is on disk is a prefix of
                // what was queued, so waiting for everything queued so far covers this job.)
                do throws(StoreError) {
                    try await journal.commit([])
                } catch {
                    logger.error("state store write failed after submission", metadata: ["job_id": "\(job.id)", "error": "\(error)"])
                    return .error(Self.storageUnavailable)
                }
                var headers: HTTPHeaders = ["Location": "/v1/generations/\(job.id)", "X-Gateway-Cost-USD": price.apiString]
                headers.add(name: "X-Generation-Id", value: job.id)
                if let remaining = budgets.map({ ledger.standing(of: $0, at: now).remaining }).min() {
                    headers.add(name: "X-Budget-Remaining-USD", value: remaining.apiString)
                }
                return .json(current.status.isTerminal ? 200 : 202, current.jsonObject, headers: headers)
            } catch {
                if error.jobMayExist {
                    // No answer (a timeout, an unreadable reply): the provider may have created
                    // — and will bill — the job. It is kept, failed with `upstream_timeout` and
                    // charged like any job whose outcome is unknown; the error names it.
                    tracker.fail(jobID: job.id, error: JobError(
                        code: "upstream_timeout",
                        message: "the provider did not answer the submission usably (\(error.kind.rawValue)); it may have created the job, so it is charged"))
                    logger.warning("submission outcome unknown", metadata: [
                        "provider": "\(target.model.provider)", "job_id": "\(job.id)", "error": "\(error.kind.rawValue)"])
                    guard await Self.wait(for: nil, in: journal, logger: logger) else { return .error(Self.storageUnavailable) }
                    var apiError = error.apiError(provider: target.model.provider)
                    apiError.message += " (generation \(job.id) is kept, failed and charged: the provider may have created it)"
                    var response = HTTPResponse.error(apiError)
                    response.headers.add(name: "X-Generation-Id", value: job.id)
                    return response
                }
                // Refused at submission: released at once, and the client never saw the id.
                var ticket: StoreTicket?
                let released = ledger.settle(jobID: job.id, .release) { reservation in
                    ticket = journal.enqueue([.jobDeleted(id: job.id)] + reservation.entries(.release, jobID: job.id, at: .now()).map(StateChange.ledger))
                }
                store.remove(id: job.id)
                if released == nil { ticket = journal.enqueue([.jobDeleted(id: job.id)]) }
                let recorded = await Self.wait(for: ticket, in: journal, logger: logger)
                logger.warning("submission failed", metadata: [
                    "provider": "\(target.model.provider)", "model": "\(target.model.name)", "error": "\(error.kind.rawValue)",
                    "http_status": "\(error.httpStatus.map(String.init) ?? "-")"])
                if recorded, error.allowsFallback, index + 1 < targets.count { continue }
                rateLimiter.finished(keyID: key.id)
                return .error(recorded ? error.apiError(provider: target.model.provider) : Self.storageUnavailable)
            }
        }
        rateLimiter.finished(keyID: key.id)
        return .error(APIError(status: 502, kind: .upstream, code: "upstream_error", message: "no target of \(generation.model) accepted the request"))
    }

    /// 503 when the durable store cannot take a write that an answer depends on.
    static let storageUnavailable = APIError(
        status: 503, kind: .api, code: "storage_unavailable", message: "the gateway cannot record this request durably right now; retry later")

    /// Commits changes; logs and returns false when the store fails.
    static func record(_ changes: [StateChange], in journal: any StateStore, logger: Logger) async -> Bool {
        await wait(for: journal.enqueue(changes), in: journal, logger: logger)
    }

    /// Waits until a queued change is durable; logs and returns false when the store fails.
    static func wait(for ticket: StoreTicket?, in journal: any StateStore, logger: Logger) async -> Bool {
        do throws(StoreError) {
            try await journal.waitUntilDurable(ticket ?? journal.enqueue([]))
            return true
        } catch {
            logger.error("state store write failed", metadata: ["error": "\(error)"])
            return false
        }
    }

    // MARK: Reads

    func get(_ request: HTTPRequest) async -> HTTPResponse {
        guard let caller = caller(request) else { return .error(.invalidAPIKey()) }
        let id = request.pathParameters["id"] ?? ""
        let job: Job
        switch await visibleJob(id: id, to: caller) {
        case .success(let found): job = found
        case .failure(let error): return .error(error)
        }
        switch Self.preferredWait(request) {
        case .failure(let error): return .error(error)
        case .success(nil): return .json(200, job.jsonObject)
        case .success(let wait?):
            // Always 200 for a read; the job as it is when it ends or the wait runs out.
            var response = HTTPResponse.json(200, (await store.waitUntilTerminal(id: id, timeout: wait) ?? job).jsonObject)
            response.headers.add(name: "Preference-Applied", value: "wait=\(wait.components.seconds)")
            return response
        }
    }

    func list(_ request: HTTPRequest) async -> HTTPResponse {
        let key: AuthenticatedKey
        switch requireKey(request) {
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
            page = try await store.page(owner: key.id, status: status, limit: limit, after: cursor)
        } catch {
            logger.error("cannot read stored generations", metadata: ["error": "\(error)"])
            return .error(Self.storageUnavailable)
        }
        let next = page.hasMore ? page.jobs.last.map { JSONText.quoted($0.id) } ?? "null" : "null"
        return .json(200, "{\"object\":\"list\",\"data\":[" + page.jobs.map(\.jsonObject).joined(separator: ",") + "],\"next\":\(next)}")
    }

    // MARK: DELETE /v1/generations/{id}

    func cancel(_ request: HTTPRequest) async -> HTTPResponse {
        guard let caller = caller(request) else { return .error(.invalidAPIKey()) }
        let id = request.pathParameters["id"] ?? ""
        let job: Job
        switch await visibleJob(id: id, to: caller) {
        case .success(let found): job = found
        case .failure(let error): return .error(error)
        }
        guard !job.status.isTerminal else {
            return .error(APIError(status: 409, kind: .invalidRequest, code: "not_cancellable", message: "the generation is already \(job.status.rawValue)"))
        }
        guard let target = models.resolve(job.model)?.first(where: { $0.model.provider == job.provider }), target.provider.canCancel else {
            return .error(APIError(status: 409, kind: .invalidRequest, code: "not_cancellable", message: "provider \(job.provider) cannot cancel generations"))
        }
        guard let providerJobID = job.providerJobID else {
            return .error(APIError(status: 409, kind: .invalidRequest, code: "not_cancellable", message: "the generation is still being submitted; retry in a moment"))
        }
        do {
            let snapshot = try await target.provider.cancel(providerJobID: providerJobID, upstreamModel: job.providerModel)
            tracker.apply(snapshot, to: id)
        } catch {
            return .error(error.apiError(provider: job.provider))
        }
        guard await Self.record([], in: journal, logger: logger) else { return .error(Self.storageUnavailable) }
        return .json(200, (store.job(id: id) ?? job).jsonObject)
    }

    /// The job `caller` may see, from memory or the store: 404 for an unknown job or another
    /// key's, 503 when the store cannot be read.
    func visibleJob(id: String, to caller: Caller) async -> Result<Job, APIError> {
        do {
            guard let job = try await store.lookup(id: id), caller.canSee(ownerKeyID: job.ownerKeyID) else {
                return .failure(.notFound("no generation \(id)"))
            }
            return .success(job)
        } catch {
            logger.error("cannot read a stored generation", metadata: ["error": "\(error)", "job_id": "\(id)"])
            return .failure(Self.storageUnavailable)
        }
    }

    // MARK: Provider callbacks

    /// A provider says a job changed. Unknown job or wrong token → 404; otherwise 200 at once and
    /// an open job is re-read from the provider (callbacks are unsigned, API.md §6). A finished
    /// job's late callback changes nothing.
    func callback(_ request: HTTPRequest) async -> HTTPResponse {
        let id = request.pathParameters["id"] ?? "", token = request.pathParameters["token"] ?? ""
        guard callbackTokens.verify(token, for: id) else {
            return .error(.notFound("no such callback"))
        }
        guard let job = store.job(id: id) else {
            // Not in memory: finished long ago (stored), or unknown.
            guard (try? await store.lookup(id: id)) != nil else { return .error(.notFound("no such callback")) }
            return .json(200, "{\"received\":true}")
        }
        guard !job.status.isTerminal else { return .json(200, "{\"received\":true}") }
        let tracker = self.tracker
        Task { await tracker.refresh(jobID: id) }
        return .json(200, "{\"received\":true}")
    }
}

extension APIError {
    /// The same error with another code.
    func with(code: String) -> APIError {
        var copy = self
        copy.code = code
        return copy
    }
}
