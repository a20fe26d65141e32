import GatewayCore
import Logging
import SQLiteNIO

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The embedded durable store: one SQLite database in WAL mode under `state.dir`
/// (`gateway.sqlite`), written through `sqlite-nio` on a thread of its own. Every commit is
/// `synchronous = FULL` (on disk before `waitUntilDurable` returns); concurrent writers share a
/// transaction (group commit). A lock file keeps a second gateway off the same directory.
public final class SQLiteStateStore: StateStore {
    /// The database file's name inside `state.dir`.
    public static let fileName = "gateway.sqlite"
    static let lockFileName = "gateway.lock"
    /// Rows per multi-row statement (well under SQLite's bound-parameter limit).
    static let rowsPerStatement = 200

    public let location: String
    private let connection: SQLiteConnection
    private let threadPool: NIOThreadPool
    private let lockDescriptor: Int32
    private let commits: GroupCommit

    private init(location: String, connection: SQLiteConnection, threadPool: NIOThreadPool, lockDescriptor: Int32) {
        self.location = location
        self.connection = connection
        self.threadPool = threadPool
        self.lockDescriptor = lockDescriptor
        self.commits = GroupCommit { [connection] batch throws(StoreError) in
            try await Self.write(batch, to: connection)
        }
    }

    /// Opens (creating if needed) the store in `directory` and brings its schema up to date. A
    /// directory that cannot be created or written, a file that is not a database, a schema newer
    /// than this build, or another gateway holding the directory is an error.
    public static func open(directory: String, logger: Logger = Logger(label: "krea-gateway.storage")) async throws(StoreError) -> SQLiteStateStore {
        try makeDirectory(directory)
        let lock = try takeLock(in: directory)
        let path = directory.hasSuffix("/") ? directory + fileName : directory + "/" + fileName
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        let connection: SQLiteConnection
        do {
            connection = try await SQLiteConnection.open(
                storage: .file(path: path), threadPool: pool, logger: logger, on: MultiThreadedEventLoopGroup.singleton.any())
        } catch {
            close(lock)
            try? await pool.shutdownGracefully()
            throw StoreError("cannot open the state database \(path): \(error)")
        }
        do {
            try await prepare(connection, path: path)
        } catch {
            try? await connection.close()
            close(lock)
            try? await pool.shutdownGracefully()
            throw error
        }
        return SQLiteStateStore(location: path, connection: connection, threadPool: pool, lockDescriptor: lock)
    }

    // MARK: StateStore

    public func enqueue(_ changes: [StateChange]) -> StoreTicket { commits.enqueue(changes) }

    public func waitUntilDurable(_ ticket: StoreTicket) async throws(StoreError) { try await commits.waitUntilDurable(ticket) }

    public var failure: StoreError? { commits.failure }

    /// Transactions written since opening.
    public var batchesWritten: Int { commits.batchesWritten }

    public func close() async {
        await commits.close()
        // Fold the WAL back into the database so the file alone is a complete copy.
        _ = try? await connection.query("PRAGMA wal_checkpoint(TRUNCATE)")
        try? await connection.close()
        Self.close(lockDescriptor)
        try? await threadPool.shutdownGracefully()
    }

    public func load() async throws(StoreError) -> StoredState {
        do {
            var state = StoredState()
            state.keys = try await connection.query("SELECT * FROM keys ORDER BY id").map(Rows.key)
            state.teams = try await connection.query("SELECT * FROM teams ORDER BY name").map(Rows.team)
            state.jobs = try await connection.query("SELECT * FROM jobs ORDER BY id").map(Rows.job)
            state.ledger = try await connection.query("SELECT * FROM ledger_entries ORDER BY seq").map(Rows.ledgerEntry)
            state.deliveries = try await connection.query("SELECT * FROM webhook_deliveries ORDER BY created_at_ms, id").map(Rows.delivery)
            state.idempotency = try await connection.query("SELECT * FROM idempotency_keys ORDER BY created_at_ms").map(Rows.idempotency)
            return state
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError("cannot read the state database \(location): \(error)")
        }
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
    private static func prepare(_ connection: SQLiteConnection, path: String) async throws(StoreError) {
        do {
            let mode = try await connection.query("PRAGMA journal_mode = WAL").first?.column("journal_mode")?.string
            guard mode?.lowercased() == "wal" else {
                throw StoreError("the state database \(path) cannot use WAL mode (journal_mode is \(mode ?? "unknown"))")
            }
            _ = try await connection.query("PRAGMA synchronous = FULL")
            _ = try await connection.query("PRAGMA foreign_keys = OFF")
            let version = Int(try await connection.query("PRAGMA user_version").first?.column("user_version")?.integer ?? 0)
            guard version <= Schema.latestVersion else {
                throw StoreError("the state database \(path) has schema version \(version), newer than this build knows (\(Schema.latestVersion)); "
                    + "run the krea-gateway that wrote it, or restore a backup")
            }
            for target in stride(from: version + 1, through: Schema.latestVersion, by: 1) {
                _ = try await connection.query("BEGIN IMMEDIATE")
                do {
                    for statement in Schema.migrations[target - 1] { _ = try await connection.query(statement) }
                    _ = try await connection.query("PRAGMA user_version = \(target)")
                    _ = try await connection.query("COMMIT")
                } catch {
                    _ = try? await connection.query("ROLLBACK")
                    throw StoreError("cannot migrate the state database \(path) to schema version \(target): \(error)")
                }
            }
            // Touch every table this build reads: a damaged or foreign file fails here, at start-up.
            for table in ["keys", "teams", "jobs", "ledger_entries", "webhook_deliveries", "idempotency_keys"] {
                _ = try await connection.query("SELECT count(*) FROM \(table)")
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError("the state database \(path) is unusable: \(error)")
        }
    }

    // MARK: Writing

    /// Writes one batch in one transaction.
    private static func write(_ batch: [StateChange], to connection: SQLiteConnection) async throws(StoreError) {
        let statements = Rows.statements(for: batch, rowsPerStatement: rowsPerStatement)
        guard !statements.isEmpty else { return }
        do {
            _ = try await connection.query("BEGIN IMMEDIATE")
        } catch {
            throw StoreError("cannot begin a transaction: \(error)")
        }
        do {
            for statement in statements { _ = try await connection.query(statement.sql, statement.binds) }
            _ = try await connection.query("COMMIT")
        } catch {
            _ = try? await connection.query("ROLLBACK")
            throw StoreError("cannot write to the state database: \(error)")
        }
    }
}
