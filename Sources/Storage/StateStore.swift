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

/// Everything the store holds, read back at start-up.
public struct StoredState: Sendable, Equatable {
    public var keys: [KeyRecord] = []
    public var teams: [TeamRecord] = []
    /// Oldest first (ids sort by creation time).
    public var jobs: [Job] = []
    /// In the order they were written.
    public var ledger: [LedgerEntry] = []
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
    /// Everything stored (start-up recovery).
    func load() async throws(StoreError) -> StoredState
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
    /// Queues changes and waits until they are durable.
    public func commit(_ changes: [StateChange]) async throws(StoreError) {
        try await waitUntilDurable(enqueue(changes))
    }
}
