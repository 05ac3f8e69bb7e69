import CSQLite

/// A prepared statement, kept and reused across calls.
final class SQLiteStatement {
    /// The compiled statement.
    let handle: OpaquePointer
    /// The connection that compiled it, for error messages.
    unowned let connection: SQLiteConnection

    init(handle: OpaquePointer, connection: SQLiteConnection) {
        self.handle = handle
        self.connection = connection
    }

    deinit {
        sqlite3_finalize(handle)
    }

    /// Advances the statement: `true` when a row is available, `false` when it is done.
    @discardableResult
    func step() throws(JournalError) -> Bool {
        let code = sqlite3_step(handle)
        switch code {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw connection.error(sql, code: code)
        }
    }

    /// Runs a statement that returns no rows, then resets it for reuse.
    func run() throws(JournalError) {
        defer { reset() }
        try step()
    }

    /// Resets the statement and clears its bindings.
    func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// Binds an integer to the 1-based parameter `index`.
    func bind(_ value: Int64, at index: Int32) throws(JournalError) {
        let code = sqlite3_bind_int64(handle, index, value)
        guard code == SQLITE_OK else { throw connection.error("bind parameter \(index) of \(sql)", code: code) }
    }

    /// Binds `bytes` without copying: they must stay valid until the statement is reset.
    func bindBlobWithoutCopy(_ bytes: UnsafeRawBufferPointer, at index: Int32) throws(JournalError) {
        // A nil destructor is SQLITE_STATIC: SQLite reads the caller's memory in place.
        let code = sqlite3_bind_blob64(handle, index, bytes.baseAddress, sqlite3_uint64(bytes.count), nil)
        guard code == SQLITE_OK else { throw connection.error("bind parameter \(index) of \(sql)", code: code) }
    }

    /// The integer in column `index` (0-based) of the current row.
    func integer(at index: Int32) -> Int64 {
        sqlite3_column_int64(handle, index)
    }

    /// The text in column `index` of the current row (empty for NULL).
    func text(at index: Int32) -> String {
        guard let text = sqlite3_column_text(handle, index) else { return "" }
        return String(cString: text)
    }

    /// The blob in column `index` of the current row, valid until the next step or reset.
    func blob(at index: Int32) -> UnsafeRawBufferPointer {
        let start = sqlite3_column_blob(handle, index)
        let count = Int(sqlite3_column_bytes(handle, index))
        return UnsafeRawBufferPointer(start: start, count: start == nil ? 0 : count)
    }

    /// Whether column `index` of the current row is a blob.
    func isBlob(at index: Int32) -> Bool {
        sqlite3_column_type(handle, index) == SQLITE_BLOB
    }

    /// The statement's SQL text, for error messages.
    var sql: String {
        guard let text = sqlite3_sql(handle) else { return "statement" }
        return String(cString: text)
    }
}
