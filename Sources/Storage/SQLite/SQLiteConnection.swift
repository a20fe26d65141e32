// The SQLite that sqlite-nio bundles (its C module), called directly on the store's own serial
// queue: a whole group-commit transaction is one hop to that queue, and every statement is
// prepared once and reused. (sqlite-nio's async API costs one thread-pool round trip per
// statement, which alone keeps the SQLite store below the durability target; measured:
// Benchmarks/README.md, "Durability".)
import VaporCSQLite

/// A value bound to or read from a statement.
enum SQLValue: Equatable {
    case integer(Int64)
    case text(String)
    case blob([UInt8])
    case null
}

/// One result row, by column name.
struct SQLRow {
    let names: [String: Int]
    let values: [SQLValue]

    func column(_ name: String) -> SQLValue? { names[name].map { values[$0] } }
}

/// One connection. Not thread-safe by itself: it is only used on the store's serial queue (or
/// before the store exists, while opening).
final class SQLiteConnection: @unchecked Sendable {
    let path: String
    private var handle: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]

    init(path: String) throws(StoreError) {
        self.path = path
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        let status = sqlite_nio_sqlite3_open_v2(path, &handle, flags, nil)
        guard status == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite_nio_sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite_nio_sqlite3_close(handle)
            throw StoreError("cannot open the state database \(path): \(message)")
        }
        self.handle = handle
        // SQLite quietly opens a file it may not write read-only: that is no store.
        if sqlite_nio_sqlite3_db_readonly(handle, "main") == 1 {
            close()
            throw StoreError("the state database \(path) is read-only for this process")
        }
        // A backup (`sqlite3 .backup`) may hold a lock for a moment: wait for it rather than fail.
        sqlite_nio_sqlite3_busy_timeout(handle, 5_000)
    }

    deinit { close() }

    func close() {
        for statement in statements.values { sqlite_nio_sqlite3_finalize(statement) }
        statements.removeAll()
        if let handle { sqlite_nio_sqlite3_close_v2(handle) }
        handle = nil
    }

    /// Runs one statement (prepared once, reused when `cached`) and returns its rows.
    @discardableResult
    func execute(_ sql: String, _ binds: [SQLValue] = [], cached: Bool = false) throws(StoreError) -> [SQLRow] {
        let statement = try prepare(sql, cached: cached)
        defer {
            sqlite_nio_sqlite3_reset(statement)
            sqlite_nio_sqlite3_clear_bindings(statement)
            if !cached { sqlite_nio_sqlite3_finalize(statement) }
        }
        try bind(binds, to: statement, sql: sql)
        var rows: [SQLRow] = []
        var names: [String: Int]?
        while true {
            let status = sqlite_nio_sqlite3_step(statement)
            if status == SQLITE_DONE { return rows }
            guard status == SQLITE_ROW else { throw failure(status, sql) }
            let count = Int(sqlite_nio_sqlite3_column_count(statement))
            if names == nil {
                var map: [String: Int] = [:]
                for index in 0..<count { map[String(cString: sqlite_nio_sqlite3_column_name(statement, Int32(index)))] = index }
                names = map
            }
            rows.append(SQLRow(names: names ?? [:], values: (0..<count).map { column(statement, Int32($0)) }))
        }
    }

    private func prepare(_ sql: String, cached: Bool) throws(StoreError) -> OpaquePointer {
        if cached, let statement = statements[sql] { return statement }
        var statement: OpaquePointer?
        let status = sqlite_nio_sqlite3_prepare_v2(handle, sql, -1, &statement, nil)
        guard status == SQLITE_OK, let statement else { throw failure(status, sql) }
        if cached { statements[sql] = statement }
        return statement
    }

    private func bind(_ values: [SQLValue], to statement: OpaquePointer, sql: String) throws(StoreError) {
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let status: Int32
            switch value {
            case .integer(let number): status = sqlite_nio_sqlite3_bind_int64(statement, index, number)
            case .text(let text): status = sqlite_nio_sqlite3_bind_text64(statement, index, text, UInt64(text.utf8.count), transient, UInt8(SQLITE_UTF8))
            case .blob(let bytes) where bytes.isEmpty: status = sqlite_nio_sqlite3_bind_zeroblob(statement, index, 0)
            case .blob(let bytes):
                status = bytes.withUnsafeBytes { sqlite_nio_sqlite3_bind_blob64(statement, index, $0.baseAddress, UInt64($0.count), transient) }
            case .null: status = sqlite_nio_sqlite3_bind_null(statement, index)
            }
            guard status == SQLITE_OK else { throw failure(status, sql) }
        }
    }

    private func column(_ statement: OpaquePointer, _ index: Int32) -> SQLValue {
        switch sqlite_nio_sqlite3_column_type(statement, index) {
        case SQLITE_INTEGER: return .integer(sqlite_nio_sqlite3_column_int64(statement, index))
        case SQLITE_TEXT:
            let count = Int(sqlite_nio_sqlite3_column_bytes(statement, index))
            guard let text = sqlite_nio_sqlite3_column_text(statement, index) else { return .text("") }
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            let count = Int(sqlite_nio_sqlite3_column_bytes(statement, index))
            guard count > 0, let bytes = sqlite_nio_sqlite3_column_blob(statement, index) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: bytes, count: count)))
        case SQLITE_FLOAT: return .text(String(sqlite_nio_sqlite3_column_double(statement, index)))
        default: return .null
        }
    }

    private func failure(_ status: Int32, _ sql: String) -> StoreError {
        let message = handle.map { String(cString: sqlite_nio_sqlite3_errmsg($0)) } ?? "closed"
        let statement = sql.split(separator: " ").prefix(3).joined(separator: " ")
        return StoreError("\(message) (SQLite error \(status) in \(statement) …)")
    }

    private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}
