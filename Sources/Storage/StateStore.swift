import GatewayCore

/// One change to the durable record. Changes are applied in the order they were queued; job rows
/// carry a revision and the store never replaces a job with a lower one.
public enum StateChange: Sendable, Equatable {
    /// A job as it is now (insert or replace).
    case job(Job)
    /// A job whose submission was refused before the client saw its id.
    case jobDeleted(id: String)
    /// One ledger line (append-only).
    case ledger(LedgerEntry)
    /// An admin-created key as it is now (token hash only).
    case key(KeyRecord)
    /// An admin-created team as it is now.
    case team(TeamRecord)
    case teamDeleted(name: String)
    /// A webhook delivery and its log as they are now.
    case delivery(WebhookDelivery)
    /// An `Idempotency-Key` record as it is now.
    case idempotency(IdempotencyRecord)
}

/// What an `Idempotency-Key` resolved to (API.md §3): the same key from the same gateway key with
/// the same body gets the same answer.
public struct IdempotencyRecord: Sendable, Equatable {
    public var ownerKeyID: String
    public var key: String
    /// SHA-256 (hex) of the request body the key was first used with.
    public var requestHash: String
    /// The job it created, once known.
    public var jobID: String?
    /// The answer to replay (status and body), once known.
    public var responseStatus: Int?
    public var responseBody: String?
    public var createdAt: Timestamp

    public init(ownerKeyID: String, key: String, requestHash: String, jobID: String? = nil, responseStatus: Int? = nil,
                responseBody: String? = nil, createdAt: Timestamp) {
        self.ownerKeyID = ownerKeyID
        self.key = key
        self.requestHash = requestHash
        self.jobID = jobID
        self.responseStatus = responseStatus
        self.responseBody = responseBody
        self.createdAt = createdAt
    }
}

/// What start-up reads back. Not the whole history: the jobs recovery must act on or that are
/// worth keeping in memory, and totals over everything else (a store with a million finished jobs
/// starts with a few thousand in memory).
public struct StoredState: Sendable, Equatable {
    public var keys: [KeyRecord] = []
    public var teams: [TeamRecord] = []
    /// Oldest first (ids sort by creation time): every open job, the newest finished ones (as many
    /// as `load` was asked to keep), and every finished job whose settlement or webhook event is
    /// missing.
    public var jobs: [Job] = []
    /// The ledger lines of `jobs`, in the order they were written.
    public var ledger: [LedgerEntry] = []
    /// Every owner's spent and reserved money per window, over all ledger lines.
    public var ledgerBalances: [LedgerBalance] = []
    /// Counts and money over every stored job.
    public var jobTally = JobTally()
    /// Requests per key and window over every stored job.
    public var requestCounts: [RequestCount] = []
    /// Oldest first.
    public var deliveries: [WebhookDelivery] = []
    public var idempotency: [IdempotencyRecord] = []

    public init() {}
}

/// Why the store cannot be used. At start-up this is a clear error, never a fallback to memory.
public struct StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Transactions and changes a store has written since it opened (their ratio is the average
/// group-commit size).
public struct StoreActivity: Sendable, Equatable {
    public var transactions: Int
    public var changes: Int
    public init(transactions: Int, changes: Int) {
        self.transactions = transactions
        self.changes = changes
    }
}

/// A position in the write queue: everything queued up to it is durable once
/// `waitUntilDurable` returns.
public struct StoreTicket: Sendable, Comparable, Hashable {
    public var sequence: UInt64
    public init(_ sequence: UInt64) { self.sequence = sequence }
    public static func < (lhs: StoreTicket, rhs: StoreTicket) -> Bool { lhs.sequence < rhs.sequence }
}

/// The durable record behind the in-memory working set (ARCHITECTURE.md, State). Writers queue
/// changes synchronously — so callers can queue inside their own critical sections and keep
/// order — and wait for durability before sending any answer that depends on it. Concurrent
/// writers share a transaction (group commit).
public protocol StateStore: Sendable {
    /// Where the state lives, for logs (`memory` or the database file).
    var location: String { get }
    /// Whether a finished job that leaves memory can still be read back (`job(id:)`, `jobs(…)`):
    /// the composition root keeps fewer finished jobs in memory over a store that does.
    var keepsFinishedJobs: Bool { get }
    /// What has been written since opening (for the log line at shutdown).
    var activity: StoreActivity { get }
    /// Start-up recovery: see `StoredState`; `keepingFinished` bounds the finished jobs returned
    /// (newest first) beyond those recovery needs.
    func load(keepingFinished: Int) async throws(StoreError) -> StoredState
    /// A stored job (`nil` if there is none; the memory-only store keeps none).
    func job(id: String) async throws(StoreError) -> Job?
    /// Stored jobs newest first, strictly older than `cursor` (a job id), of one owner and status
    /// when given, at most `limit`.
    func jobs(owner: String?, status: JobStatus?, before cursor: String?, limit: Int) async throws(StoreError) -> [Job]
    /// One job's ledger lines in the order they were written.
    func ledgerEntries(jobID: String) async throws(StoreError) -> [LedgerEntry]
    /// Queues changes; returns at once.
    func enqueue(_ changes: [StateChange]) -> StoreTicket
    /// Returns once everything queued up to `ticket` is durable; throws if its transaction failed.
    func waitUntilDurable(_ ticket: StoreTicket) async throws(StoreError)
    /// `nil` while writes succeed; the last write error otherwise (for `/readyz`).
    var failure: StoreError? { get }
    /// Writes what is queued, then closes. Nothing may be queued afterwards.
    func close() async
}

extension StateStore {
    /// Everything stored.
    public func load() async throws(StoreError) -> StoredState { try await load(keepingFinished: .max) }

    /// Returns once everything queued so far is durable.
    public func flush() async throws(StoreError) { try await commit([]) }

    /// Queues changes and waits until they are durable.
    public func commit(_ changes: [StateChange]) async throws(StoreError) {
        try await waitUntilDurable(enqueue(changes))
    }
}
