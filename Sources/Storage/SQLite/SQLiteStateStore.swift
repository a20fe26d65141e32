import Dispatch
import GatewayCore

#if canImport(Glibc)
import Glibc
#endif

/// The embedded durable store: one SQLite database in WAL mode under `state.dir`
/// (`gateway.sqlite`), written on a serial queue of its own with the SQLite that sqlite-nio
/// bundles. Every commit is `synchronous = FULL` (on disk before `waitUntilDurable` returns);
/// concurrent writers share a transaction (group commit). A lock file keeps a second gateway off
/// the same directory.
public final class SQLiteStateStore: StateStore {
    /// The database file's name inside `state.dir`.
    public static let fileName = "gateway.sqlite"
    static let lockFileName = "gateway.lock"

    public let location: String
    private let connection: SQLiteConnection
    private let queue: DispatchQueue
    /// Reads of jobs no longer in memory use a connection and queue of their own (WAL lets them
    /// run beside the writer), so a read never waits behind a commit.
    private let reader: SQLiteConnection
    private let readQueue = DispatchQueue(label: "krea-gateway.state-store.reads")
    private let lockDescriptor: Int32
    private let commits: GroupCommit

    private init(connection: SQLiteConnection, reader: SQLiteConnection, queue: DispatchQueue, lockDescriptor: Int32) {
        self.location = connection.path
        self.connection = connection
        self.reader = reader
        self.queue = queue
        self.lockDescriptor = lockDescriptor
        self.commits = GroupCommit(queue: queue) { batch throws(StoreError) in
            try Self.write(batch, to: connection)
        }
    }

    /// Opens (creating if needed) the store in `directory` and brings its schema up to date. A
    /// directory that cannot be created or written, a file that is not a database, a schema newer
    /// than this build, or another gateway holding the directory is an error.
    public static func open(directory: String) async throws(StoreError) -> SQLiteStateStore {
        let queue = DispatchQueue(label: "krea-gateway.state-store")
        let opened: Result<SQLiteStateStore, StoreError> = await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(returning: Result { () throws(StoreError) -> SQLiteStateStore in
                    try makeDirectory(directory)
                    let lock = try takeLock(in: directory)
                    do throws(StoreError) {
                        let path = directory.hasSuffix("/") ? directory + fileName : directory + "/" + fileName
                        let connection = try SQLiteConnection(path: path)
                        try prepare(connection)
                        let reader = try SQLiteConnection(path: path)
                        return SQLiteStateStore(connection: connection, reader: reader, queue: queue, lockDescriptor: lock)
                    } catch {
                        close(lock)
                        throw error
                    }
                })
            }
        }
        return try opened.get()
    }

    // MARK: StateStore

    public func enqueue(_ changes: [StateChange]) -> StoreTicket { commits.enqueue(changes) }

    public func waitUntilDurable(_ ticket: StoreTicket) async throws(StoreError) { try await commits.waitUntilDurable(ticket) }

    public var failure: StoreError? { commits.failure }

    public var keepsFinishedJobs: Bool { true }

    public var activity: StoreActivity { StoreActivity(transactions: commits.batchesWritten, changes: commits.changesWritten) }

    public func close() async {
        await commits.close()
        await withCheckedContinuation { continuation in readQueue.async { [reader] in reader.close(); continuation.resume() } }
        await onQueue { [connection, lockDescriptor] in
            // Fold the WAL back into the database so the file alone is a complete copy.
            _ = try? connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            connection.close()
            Self.close(lockDescriptor)
        }
    }

    public func load(keepingFinished: Int) async throws(StoreError) -> StoredState {
        let loaded: Result<StoredState, StoreError> = await onQueue { [connection] in
            Result { () throws(StoreError) -> StoredState in
                do {
                    return try Self.load(from: connection, keepingFinished: keepingFinished)
                } catch let error as StoreError {
                    throw error
                } catch {
                    throw StoreError("cannot read the state database \(connection.path): \(error)")
                }
            }
        }
        return try loaded.get()
    }

    public func job(id: String) async throws(StoreError) -> Job? {
        try await read { connection in try connection.execute("SELECT * FROM jobs WHERE id = ?", [.text(id)], cached: true).first.map(Rows.job) }
    }

    public func jobs(owner: String?, status: JobStatus?, before cursor: String?, limit: Int) async throws(StoreError) -> [Job] {
        var conditions: [String] = [], binds: [SQLValue] = []
        if let owner { conditions.append("owner_key_id = ?"); binds.append(.text(owner)) }
        if let status { conditions.append("status = ?"); binds.append(.text(status.rawValue)) }
        if let cursor { conditions.append("id < ?"); binds.append(.text(cursor)) }
        let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        let sql = "SELECT * FROM jobs" + filter + " ORDER BY id DESC LIMIT ?"
        let bound = binds + [.integer(Int64(max(0, limit)))]
        return try await read { connection in try connection.execute(sql, bound, cached: true).map(Rows.job) }
    }

    public func ledgerEntries(jobID: String) async throws(StoreError) -> [LedgerEntry] {
        try await read { connection in
            try connection.execute("SELECT * FROM ledger_entries WHERE job_id = ? ORDER BY seq", [.text(jobID)], cached: true).map(Rows.ledgerEntry)
        }
    }

    /// Runs a read on the read connection's queue.
    private func read<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws(StoreError) -> T {
        let result: Result<T, StoreError> = await withCheckedContinuation { continuation in
            readQueue.async { [reader] in
                do {
                    continuation.resume(returning: .success(try body(reader)))
                } catch let error as StoreError {
                    continuation.resume(returning: .failure(error))
                } catch {
                    continuation.resume(returning: .failure(StoreError("cannot read the state database \(reader.path): \(error)")))
                }
            }
        }
        return try result.get()
    }

    private func onQueue<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in queue.async { continuation.resume(returning: body()) } }
    }

    // MARK: Opening

    private static func makeDirectory(_ directory: String) throws(StoreError) {
        var path = directory.hasPrefix("/") ? "/" : ""
        for component in directory.split(separator: "/") where component != "." {
            path += (path.isEmpty || path.hasSuffix("/") ? "" : "/") + component
            if mkdir(path, 0o700) != 0 && errno != EEXIST {
                throw StoreError("state.dir \(directory): cannot create \(path): \(String(cString: strerror(errno)))")
            }
        }
        var info = stat()
        guard stat(directory, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw StoreError("state.dir \(directory) is not a directory")
        }
        guard access(directory, W_OK | X_OK) == 0 else {
            throw StoreError("state.dir \(directory) is not writable by this process: \(String(cString: strerror(errno)))")
        }
    }

    private static func takeLock(in directory: String) throws(StoreError) -> Int32 {
        let path = directory + "/" + lockFileName
        let descriptor = Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw StoreError("state.dir \(directory): cannot open \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let reason = errno == EWOULDBLOCK ? "another krea-gateway is using this directory" : String(cString: strerror(errno))
            Glibc.close(descriptor)
            throw StoreError("state.dir \(directory) is locked: \(reason)")
        }
        return descriptor
    }

    private static func close(_ lockDescriptor: Int32) {
        _ = flock(lockDescriptor, LOCK_UN)
        _ = Glibc.close(lockDescriptor)
    }

    /// WAL, full sync, and the schema migrated to the latest version.
    private static func prepare(_ connection: SQLiteConnection) throws(StoreError) {
        let path = connection.path
        do throws(StoreError) {
            let mode = try connection.execute("PRAGMA journal_mode = WAL").first?.column("journal_mode")
            guard mode == .text("wal") else {
                throw StoreError("the state database \(path) cannot use WAL mode (journal_mode is \(String(describing: mode)))")
            }
            try connection.execute("PRAGMA synchronous = FULL")
            try connection.execute("PRAGMA foreign_keys = OFF")
            var version = 0
            if case .integer(let stored)? = try connection.execute("PRAGMA user_version").first?.column("user_version") { version = Int(stored) }
            guard version <= Schema.latestVersion else {
                throw StoreError("the state database \(path) has schema version \(version), newer than this build knows (\(Schema.latestVersion)); "
                    + "run the krea-gateway that wrote it, or restore a backup")
            }
            for target in stride(from: version + 1, through: Schema.latestVersion, by: 1) {
                try connection.execute("BEGIN IMMEDIATE")
                do {
                    for statement in Schema.migrations[target - 1] { try connection.execute(statement) }
                    try connection.execute("PRAGMA user_version = \(target)")
                    try connection.execute("COMMIT")
                } catch {
                    _ = try? connection.execute("ROLLBACK")
                    throw StoreError("cannot migrate the state database \(path) to schema version \(target): \(error)")
                }
            }
            // Touch every table this build reads: a damaged or foreign file fails here, at start-up.
            for table in ["keys", "teams", "jobs", "ledger_entries", "webhook_deliveries", "idempotency_keys"] {
                try connection.execute("SELECT count(*) FROM \(table)")
            }
        } catch {
            throw error.description.contains(path) ? error : StoreError("the state database \(path) is unusable: \(error)")
        }
    }

    // MARK: Writing

    /// Writes one batch in one transaction: each statement is prepared once and run per row.
    private static func write(_ batch: [StateChange], to connection: SQLiteConnection) throws(StoreError) {
        let statements = Rows.statements(for: batch)
        guard !statements.isEmpty else { return }
        do {
            try connection.execute("BEGIN IMMEDIATE", cached: true)
        } catch {
            throw StoreError("cannot begin a transaction: \(error)")
        }
        do {
            for statement in statements {
                for row in statement.rows { try connection.execute(statement.sql, row, cached: true) }
            }
            try connection.execute("COMMIT", cached: true)
        } catch {
            _ = try? connection.execute("ROLLBACK", cached: true)
            throw StoreError("cannot write to the state database: \(error)")
        }
    }
}
