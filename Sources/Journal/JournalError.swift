/// A journal operation failed; nothing partial was stored.
public struct JournalError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, for logs and operators.
    public var message: String
    /// The SQLite result code, when SQLite reported the failure.
    public var sqliteCode: Int32?

    /// Creates an error with a message and, optionally, the SQLite result code behind it.
    public init(_ message: String, sqliteCode: Int32? = nil) {
        self.message = message
        self.sqliteCode = sqliteCode
    }

    public var description: String {
        if let sqliteCode { return "journal: \(message) (SQLite code \(sqliteCode))" }
        return "journal: \(message)"
    }
}
