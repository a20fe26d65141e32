import GatewayCore

/// A generation request on its way into the service: what is asked, by whom, through which front
/// door, and how the caller wants the answer.
struct Submission: Sendable {
    /// The authenticated gateway key that asks.
    var key: AuthenticatedKey
    /// The front door it came through (its events carry that door's job shape).
    var frontDoor: FrontDoor = .gateway
    /// The `Idempotency-Key` claim, if the caller sent one.
    var idempotency: IdempotencyClaim?
    /// How long to hold the answer for the job to end (`Prefer: wait`, the OpenAI door's wait).
    var wait: Duration?
}

/// An `Idempotency-Key` and the digest of the request it came with: the same key with another
/// request is refused, with the same request it replays the first answer.
struct IdempotencyClaim: Sendable, Equatable {
    var key: String
    /// SHA-256 (hex) of the request as the front door received it.
    var requestHash: String
}

/// What became of a submission.
enum SubmissionOutcome: Sendable {
    /// A job exists: it was admitted now, or is the one an earlier use of the idempotency key made.
    case accepted(AcceptedSubmission)
    /// Nothing was admitted (or a job was kept but failed: see `SubmissionRefusal.keptJobID`).
    case refused(SubmissionRefusal)
}

/// An admitted job, as it is when the answer goes out.
struct AcceptedSubmission: Sendable {
    /// The job: as submitted, or as it ended when the caller waited for it.
    var job: Job
    /// The amount reserved for it.
    var price: Money
    /// The smallest amount left across the budgets that apply, after this reservation (`nil`
    /// when no budget applies, and on a replay).
    var budgetRemaining: Money?
    /// Whether this is the answer of an earlier request with the same idempotency key.
    var replayed = false
    /// The wait that was honoured, if the caller asked for one.
    var waited: Duration?
}

/// Why a submission was not admitted, in the domain's terms, and how the API describes it.
struct SubmissionRefusal: Error, Sendable {
    enum Reason: String, Sendable {
        /// The request itself is wrong (a field, the webhook URL, the body).
        case invalidRequest
        /// No model or alias has this name.
        case unknownModel
        /// The key may not use the model.
        case modelNotAllowed
        /// `rpm` or `max_concurrent` of the key.
        case rateLimited
        /// A budget that applies has no room for the price.
        case budgetExceeded
        /// The idempotency key was used with another request.
        case idempotencyKeyReused
        /// The provider refused the submission (nothing was created upstream).
        case upstreamRefused
        /// The provider's answer was lost: the job may exist upstream, so it is kept, failed and charged.
        case upstreamOutcomeUnknown
        /// No target of the model (or alias) took the request.
        case noTargetAccepted
        /// The durable store cannot take the write an answer depends on.
        case storageUnavailable
    }

    var reason: Reason
    /// The refusal as the API answers it (status, code, message, `Retry-After`).
    var error: APIError
    /// The job that was kept, failed and charged (`upstreamOutcomeUnknown`).
    var keptJobID: String?
    /// Whether this is the answer of an earlier request with the same idempotency key.
    var replayed = false

    init(_ reason: Reason, _ error: APIError, keptJobID: String? = nil) {
        self.reason = reason
        self.error = error
        self.keptJobID = keptJobID
    }

    /// 503 when the durable store cannot take a write that an answer depends on.
    static let storageFailure = SubmissionRefusal(.storageUnavailable, .storageUnavailable)
}

extension APIError {
    /// 503 `storage_unavailable`: the durable store cannot take a write the answer depends on.
    static let storageUnavailable = APIError(
        status: 503, kind: .api, code: "storage_unavailable", message: "the gateway cannot record this request durably right now; retry later")

    /// The same error with another code.
    func with(code: String) -> APIError {
        var copy = self
        copy.code = code
        return copy
    }
}
