import GatewayCore
import Logging
import Providers
import Storage
import Webhooks

/// The one way a generation request becomes a job, whatever front door it came through: the
/// webhook policy, the model and the key's model list, admission (rate limits, then the price
/// reserved in every budget, all or nothing), the durable write ahead of the provider call, the
/// submission, fallback to the next alias target, and rollback. It speaks the domain only: a
/// decoded request in, a typed outcome out; each front door renders the outcome in its own shape.
struct SubmissionService: Sendable {
    let keys: KeyRing
    let models: LiveModels
    let jobs: JobRegistry
    let stateStore: any StateStore
    let tracker: JobTracker
    let ledger: Ledger
    let rateLimiter: RateLimiter
    let idempotency: IdempotencyKeys
    let callbacks: CallbackRoute
    let webhookPolicy: URLPolicy
    let defaultWebhookSecret: Secret?
    let clock: any GatewayClock
    let logger: Logger

    /// Submits a request that the front door has decoded already.
    func submit(_ request: GenerationRequest, _ submission: Submission) async -> SubmissionOutcome {
        await submit(submission) { () throws(APIError) in request }
    }

    /// Submits a request, decoding it inside the idempotency window: a request refused for its
    /// content is a final answer, replayed to a retry with the same key like a job is.
    func submit(_ submission: Submission, decode: () throws(APIError) -> GenerationRequest) async -> SubmissionOutcome {
        guard let claim = submission.idempotency else {
            return await waiting(admit(submission, decode: decode).outcome, for: submission.wait)
        }
        let owner = submission.key.id
        switch await idempotency.begin(owner: owner, key: claim.key, requestHash: claim.requestHash) {
        case .reused:
            return .refused(SubmissionRefusal(.idempotencyKeyReused, APIError(
                status: 422, kind: .invalidRequest, code: "idempotency_key_reused",
                message: "this Idempotency-Key was used with a different body", param: "Idempotency-Key")))
        case .replay(let record):
            return await replay(record, wait: submission.wait)
        case .proceed:
            let (outcome, recordedWithJob) = await admit(submission, decode: decode)
            let record: IdempotencyRecord?
            switch outcome {
            case .accepted(let accepted):
                record = idempotency.finish(owner: owner, key: claim.key, jobID: accepted.job.id, status: 202, body: "")
            case .refused(let refusal):
                record = idempotency.finish(
                    owner: owner, key: claim.key, jobID: refusal.keptJobID, status: refusal.error.status, body: refusal.error.jsonBody)
            }
            // A job's record went to disk with the job; any other final answer's need not wait.
            if let record, !recordedWithJob { _ = stateStore.enqueue([.idempotency(record)]) }
            return await waiting(outcome, for: submission.wait)
        }
    }

    /// The answer an earlier use of the key got: its job as it is now, or the same refusal.
    private func replay(_ record: IdempotencyRecord, wait: Duration?) async -> SubmissionOutcome {
        if let jobID = record.jobID {
            guard let job = try? await jobs.lookup(id: jobID) else { return .refused(.storageFailure) }
            return .accepted(AcceptedSubmission(job: job, price: job.cost, budgetRemaining: nil, replayed: true, waited: wait))
        }
        var refusal = SubmissionRefusal(.invalidRequest, APIError(decodingStored: record.responseBody ?? "", status: record.responseStatus ?? 400))
        refusal.replayed = true
        return .refused(refusal)
    }

    /// Holds an admitted, open job until it ends or `wait` passes.
    private func waiting(_ outcome: SubmissionOutcome, for wait: Duration?) async -> SubmissionOutcome {
        guard let wait, case .accepted(var accepted) = outcome else { return outcome }
        accepted.waited = wait
        if !accepted.job.status.isTerminal, let job = await jobs.waitUntilTerminal(id: accepted.job.id, timeout: wait) {
            accepted.job = job
        }
        return .accepted(accepted)
    }

    /// Decodes and admits; also says whether the idempotency record was made durable with the job.
    private func admit(_ submission: Submission, decode: () throws(APIError) -> GenerationRequest) async -> (outcome: SubmissionOutcome, recordedWithJob: Bool) {
        let request: GenerationRequest
        do throws(APIError) {
            request = try decode()
            try checkWebhook(request, key: submission.key)
        } catch {
            return (.refused(SubmissionRefusal(.invalidRequest, error)), false)
        }
        guard let targets = models.resolve(request.model), let first = targets.first else {
            return (.refused(SubmissionRefusal(
                .unknownModel, APIError.parameter(.invalid, "model", "unknown model \(request.model)").with(code: "unknown_model"))), false)
        }
        if let allowed = submission.key.allowedModels, !allowed.contains(request.model) {
            return (.refused(SubmissionRefusal(.modelNotAllowed, APIError(
                status: 403, kind: .permission, code: "model_not_allowed", message: "this key may not use model \(request.model)", param: "model"))), false)
        }
        do throws(APIError) {
            try request.validate(for: first.capabilities, model: first.model.name, provider: first.model.provider)
        } catch {
            return (.refused(SubmissionRefusal(.invalidRequest, error)), false)
        }
        return await place(request, submission, targets: targets)
    }

    /// API.md §5: the webhook URL is checked at submission (and again at delivery against the
    /// resolved address), and every event must be signable.
    private func checkWebhook(_ request: GenerationRequest, key: AuthenticatedKey) throws(APIError) {
        guard let url = request.webhookURL else { return }
        if case .failure(let violation) = webhookPolicy.check(url) {
            throw APIError(status: 400, kind: .invalidRequest, code: "invalid_webhook_url", message: "webhook_url refused: \(violation)", param: "webhook_url")
        }
        if keys.key(id: key.id)?.webhookSecret == nil, defaultWebhookSecret == nil {
            throw APIError(status: 400, kind: .invalidRequest, code: "invalid_webhook_url",
                           message: "no webhook signing secret is configured for this key (set keys[].webhook_secret or webhooks.secret)", param: "webhook_url")
        }
    }

    /// Rate limits, then for each target in order the price is reserved in every budget (all or
    /// nothing) and written to the store before the provider is called. The next target is tried
    /// only when the previous refused the submission in a way that cannot have created a job
    /// (CONFIG.md `aliases`), re-priced and re-reserved for that target.
    private func place(_ request: GenerationRequest, _ submission: Submission, targets: [ModelTable.Target]) async -> (outcome: SubmissionOutcome, recordedWithJob: Bool) {
        let key = submission.key
        let admittedAt = clock.now()
        if case .failure(let error) = rateLimiter.admit(keyID: key.id, limits: key.limits, at: admittedAt) {
            return (.refused(SubmissionRefusal(.rateLimited, error)), false)
        }
        let budgets = keys.applicableBudgets(for: key)
        var counted = false
        for (index, target) in targets.enumerated() {
            // A fallback target must accept the request as it is; otherwise stop here.
            if index > 0, (try? request.validate(for: target.capabilities, model: target.model.name, provider: target.model.provider)) == nil { break }
            let price = target.model.price.price(for: request)
            let now = clock.now()
            var job = Job(
                id: GenerationID.make(at: now), ownerKeyID: key.id, model: request.model, provider: target.model.provider,
                providerModel: target.model.upstreamModel, cost: price, createdAt: now,
                metadata: request.metadata, webhookURL: request.webhookURL)
            job.team = key.team
            job.frontDoor = submission.frontDoor
            let reservation: Ledger.Reservation
            switch ledger.reserve(jobID: job.id, price: price, budgets: budgets, at: now) {
            case .failure(let exceeded):
                rateLimiter.rollBack(keyID: key.id, admittedAt: admittedAt)
                return (.refused(SubmissionRefusal(.budgetExceeded, exceeded.apiError)), false)
            case .success(let held):
                reservation = held
                if !counted {
                    counted = true
                    let day = Ledger.Window(period: .daily, start: BudgetWindow.start(of: .daily, containing: now))
                    rateLimiter.count(keyID: key.id, in: Array(Set([day] + held.accounts.values)))
                }
            }
            jobs.insert(job)
            // Write-ahead: the job and its hold are on disk before the provider hears of it, so a
            // crash from here on can never lose money that a provider may spend.
            do throws(StoreError) {
                try await stateStore.commit([.job(job)] + reservation.entries(.reserve, jobID: job.id, at: now).map(StateChange.ledger))
            } catch {
                ledger.settle(jobID: job.id, .release)
                jobs.remove(id: job.id)
                rateLimiter.rollBack(keyID: key.id, admittedAt: admittedAt)
                logger.error("state store write failed", metadata: ["error": "\(error)"])
                return (.refused(.storageFailure), false)
            }
            do {
                let snapshot = try await target.provider.submit(
                    request, upstreamModel: target.model.upstreamModel, callbackURL: callbacks.url(for: job.id))
                guard let submitted = jobs.submitted(id: job.id, snapshot: snapshot) else { break }
                var changes: [StateChange] = [.job(submitted)]
                if let claim = submission.idempotency {
                    // Durable with the job: after a crash the key still finds it.
                    changes.append(.idempotency(IdempotencyRecord(
                        ownerKeyID: key.id, key: claim.key, requestHash: claim.requestHash, jobID: job.id, responseStatus: 202, createdAt: now)))
                }
                _ = stateStore.enqueue(changes)
                tracker.apply(snapshot, to: job.id)
                let current = jobs.job(id: job.id) ?? submitted
                // The job exists at the provider now: follow it whatever happens to the disk.
                if !current.status.isTerminal { tracker.track(current) }
                // Accepted means the provider's job id is on disk too: after a crash the job is
                // polled to its end instead of being guessed at. (What is on disk is a prefix of
                // what was queued, so waiting for everything queued so far covers this job.)
                guard await stateStore.awaitDurable(logger: logger) else {
                    logger.error("state store write failed after submission", metadata: ["job_id": "\(job.id)"])
                    return (.refused(.storageFailure), true)
                }
                let remaining = budgets.map { ledger.standing(of: $0, at: now).remaining }.min()
                return (.accepted(AcceptedSubmission(job: current, price: price, budgetRemaining: remaining)), true)
            } catch {
                if error.jobMayExist {
                    return (await keepUnknown(job, error: error, provider: target.model.provider), false)
                }
                // Refused at submission: released at once, and the client never saw the id.
                var ticket: StoreTicket?
                let released = ledger.settle(jobID: job.id, .release) { reservation in
                    ticket = stateStore.enqueue(
                        [.jobDeleted(id: job.id)] + reservation.entries(.release, jobID: job.id, at: clock.now()).map(StateChange.ledger))
                }
                jobs.remove(id: job.id)
                if released == nil { ticket = stateStore.enqueue([.jobDeleted(id: job.id)]) }
                let recorded = await stateStore.awaitDurable(ticket, logger: logger)
                logger.warning("submission failed", metadata: [
                    "provider": "\(target.model.provider)", "model": "\(target.model.name)", "error": "\(error.kind.rawValue)",
                    "http_status": "\(error.httpStatus.map(String.init) ?? "-")"])
                if recorded, error.allowsFallback, index + 1 < targets.count { continue }
                rateLimiter.finished(keyID: key.id)
                return (.refused(recorded ? SubmissionRefusal(.upstreamRefused, error.apiError(provider: target.model.provider)) : .storageFailure), false)
            }
        }
        rateLimiter.finished(keyID: key.id)
        return (.refused(SubmissionRefusal(.noTargetAccepted, APIError(
            status: 502, kind: .upstream, code: "upstream_error", message: "no target of \(request.model) accepted the request"))), false)
    }

    /// No usable answer (a timeout, an unreadable reply): the provider may have created — and
    /// will bill — the job. It is kept, failed with `upstream_timeout` and charged like any job
    /// whose outcome is unknown; the refusal names it.
    private func keepUnknown(_ job: Job, error: ProviderError, provider: String) async -> SubmissionOutcome {
        tracker.fail(jobID: job.id, error: JobError(
            code: "upstream_timeout",
            message: "the provider did not answer the submission usably (\(error.kind.rawValue)); it may have created the job, so it is charged"))
        logger.warning("submission outcome unknown", metadata: ["provider": "\(provider)", "job_id": "\(job.id)", "error": "\(error.kind.rawValue)"])
        guard await stateStore.awaitDurable(logger: logger) else { return .refused(.storageFailure) }
        var apiError = error.apiError(provider: provider)
        apiError.message += " (generation \(job.id) is kept, failed and charged: the provider may have created it)"
        return .refused(SubmissionRefusal(.upstreamOutcomeUnknown, apiError, keptJobID: job.id))
    }
}
