import GatewayCore
import Logging
import Storage

/// Reading and cancelling one job on a caller's behalf, for every front door: a job another key
/// owns is as unknown as one that never existed.
struct JobAccess: Sendable {
    let jobs: JobRegistry
    let models: LiveModels
    let tracker: JobTracker
    let stateStore: any StateStore
    let logger: Logger

    /// The job `caller` may see, from memory or the store: 404 for an unknown job or another
    /// key's, 503 when the store cannot be read.
    func visibleJob(id: String, to caller: Caller) async -> Result<Job, APIError> {
        do {
            guard let job = try await jobs.lookup(id: id), caller.canSee(ownerKeyID: job.ownerKeyID) else {
                return .failure(.notFound("no generation \(id)"))
            }
            return .success(job)
        } catch {
            logger.error("cannot read a stored generation", metadata: ["error": "\(error)", "job_id": "\(id)"])
            return .failure(.storageUnavailable)
        }
    }

    /// Cancels an open job at its provider and answers the job as it is then: 409 when it has
    /// ended, its provider cannot cancel, or its submission is still under way.
    func cancel(id: String, by caller: Caller) async -> Result<Job, APIError> {
        let job: Job
        switch await visibleJob(id: id, to: caller) {
        case .success(let found): job = found
        case .failure(let error): return .failure(error)
        }
        guard !job.status.isTerminal else {
            return .failure(APIError(status: 409, kind: .invalidRequest, code: "not_cancellable", message: "the generation is already \(job.status.rawValue)"))
        }
        guard let target = models.resolve(job.model)?.first(where: { $0.model.provider == job.provider }), target.provider.canCancel else {
            return .failure(APIError(status: 409, kind: .invalidRequest, code: "not_cancellable", message: "provider \(job.provider) cannot cancel generations"))
        }
        guard let providerJobID = job.providerJobID else {
            return .failure(APIError(status: 409, kind: .invalidRequest, code: "not_cancellable", message: "the generation is still being submitted; retry in a moment"))
        }
        do {
            let snapshot = try await target.provider.cancel(providerJobID: providerJobID, upstreamModel: job.providerModel)
            tracker.apply(snapshot, to: id)
        } catch {
            return .failure(error.apiError(provider: job.provider))
        }
        guard await stateStore.awaitDurable(logger: logger) else { return .failure(.storageUnavailable) }
        return .success(jobs.job(id: id) ?? job)
    }
}
