import CSQLite

/// One SQLite database connection (a thin owner of `sqlite3*`).
///
/// Opened with `SQLITE_OPEN_NOMUTEX`: SQLite takes no locks of its own, so the connection must be
/// used by one thread at a time.
final class SQLiteConnection {
    /// The open handle; `nil` after ``close()``.
    private(set) var handle: OpaquePointer?

    /// Opens (creating if needed) the database file at `path`; with `readOnly`, opens an existing
    /// file for reading only.
    init(path: String, readOnly: Bool = false) throws(JournalError) {
        var handle: OpaquePointer?
        let access = readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
        let flags = access | SQLITE_OPEN_NOMUTEX
        let code = sqlite3_open_v2(path, &handle, flags, nil)
        guard code == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(handle)
            throw JournalError("cannot open \(path): \(message)", sqliteCode: code)
        }
        self.handle = handle
        sqlite3_extended_result_codes(handle, 1)
    }

    deinit {
        close()
    }

    /// Closes the connection. Statements not yet finalized keep it alive until they are (`close_v2`).
    func close() {
        guard let handle else { return }
        sqlite3_close_v2(handle)
        self.handle = nil
    }

    /// The error for a failed call, with SQLite's own message.
    func error(_ context: String, code: Int32) -> JournalError {
        let detail = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "connection closed"
        return JournalError("\(context): \(detail)", sqliteCode: code)
    }

    /// Runs one or more statements that return no rows needed by the caller.
    func execute(_ sql: String) throws(JournalError) {
        guard let handle else { throw JournalError("connection closed") }
        let code = sqlite3_exec(handle, sql, nil, nil, nil)
        guard code == SQLITE_OK else { throw error("\(sql)", code: code) }
    }

    /// Compiles `sql` into a reusable statement.
    func prepare(_ sql: String) throws(JournalError) -> SQLiteStatement {
        guard let handle else { throw JournalError("connection closed") }
        var statement: OpaquePointer?
        let code = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard code == SQLITE_OK, let statement else { throw error("prepare \(sql)", code: code) }
        return SQLiteStatement(handle: statement, connection: self)
    }

    /// The first column of the first row of `sql` as text, or `nil` when there is no row.
    func queryText(_ sql: String) throws(JournalError) -> String? {
        let statement = try prepare(sql)
        return try statement.step() ? statement.text(at: 0) : nil
    }

    /// The first column of the first row of `sql` as an integer, or `nil` when there is no row.
    func queryInteger(_ sql: String) throws(JournalError) -> Int64? {
        let statement = try prepare(sql)
        return try statement.step() ? statement.integer(at: 0) : nil
    }

    /// Whether a transaction is open (`sqlite3_get_autocommit` reports 0).
    var isInTransaction: Bool {
        guard let handle else { return false }
        return sqlite3_get_autocommit(handle) == 0
    }
}
