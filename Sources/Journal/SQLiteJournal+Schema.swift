import Basics
import CSQLite
import Glibc

extension SQLiteJournal {
    /// The schema version this code writes and reads (`PRAGMA user_version`).
    static let schemaVersion: Int64 = 1

    /// Creates `directory` and any missing parents (`mkdir -p`).
    static func createDirectory(_ directory: String) throws(JournalError) {
        guard !directory.isEmpty else { throw JournalError("data directory is empty") }
        var prefix = directory.hasPrefix("/") ? "/" : ""
        for component in directory.split(separator: "/") {
            prefix += component
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                let reason = String(cString: strerror(errno))
                throw JournalError("cannot create directory \(prefix): \(reason)")
            }
            prefix += "/"
        }
    }

    /// Applies the connection settings: WAL, the durability level, a busy timeout.
    ///
    /// Normal locking mode, so that a backup in another process can read (the directory lock,
    /// not SQLite's, keeps a second writer out).
    static func configure(_ connection: SQLiteConnection, path: String, synchronous: JournalSynchronous) throws(JournalError) {
        if let handle = connection.handle {
            sqlite3_busy_timeout(handle, 2_000)
        }
        let mode: String?
        do throws(JournalError) {
            mode = try connection.queryText("PRAGMA journal_mode = WAL")
        } catch {
            if error.sqliteCode.map({ $0 & 0xFF }) == SQLITE_BUSY {
                throw JournalError("\(path) is locked: is another syndicast process using this data directory?")
            }
            throw error
        }
        guard mode == "wal" else {
            throw JournalError("cannot switch the database to WAL mode (journal_mode is \(mode ?? "unknown"))")
        }
        try connection.execute("PRAGMA synchronous = \(synchronous.rawValue.uppercased())")
        try connection.execute("PRAGMA journal_size_limit = \(64 << 20)")
    }

    /// Creates the schema on first use and returns the stored epoch.
    static func prepareSchema(_ connection: SQLiteConnection) throws(JournalError) -> String {
        let version = try connection.queryInteger("PRAGMA user_version") ?? 0
        if version > schemaVersion {
            throw JournalError("database schema version \(version) is newer than this build supports (\(schemaVersion))")
        }
        if version == 0 {
            try connection.execute(
                """
                BEGIN IMMEDIATE;
                CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE groups (
                    id INTEGER PRIMARY KEY,
                    entry_total INTEGER NOT NULL,
                    transaction_total INTEGER NOT NULL,
                    payload_total INTEGER NOT NULL,
                    payload BLOB NOT NULL
                );
                INSERT INTO meta (key, value) VALUES ('epoch', '\(newEpoch())');
                INSERT INTO meta (key, value) VALUES ('payload_format', '\(JournalPayloadCodec.formatVersion)');
                PRAGMA user_version = \(schemaVersion);
                COMMIT;
                """
            )
        }
        // `payload_format` names the newest payload format the database may hold (each payload
        // starts with its own version byte): a database from an older build is about to take
        // version-2 rows.
        try connection.execute(
            """
            INSERT INTO meta (key, value) VALUES ('payload_format', '\(JournalPayloadCodec.formatVersion)')
            ON CONFLICT (key) DO UPDATE SET value = excluded.value
            WHERE CAST(meta.value AS INTEGER) < CAST(excluded.value AS INTEGER)
            """
        )
        guard let epoch = try connection.queryText("SELECT value FROM meta WHERE key = 'epoch'"),
            epoch.utf8.count == 16
        else {
            throw JournalError("database has no valid epoch in its meta table")
        }
        return epoch
    }

    /// Reads the running totals of the last group.
    static func readStatistics(_ connection: SQLiteConnection) throws(JournalError) -> JournalStatistics {
        let statement = try connection.prepare(
            "SELECT id, entry_total, transaction_total, payload_total FROM groups ORDER BY id DESC LIMIT 1"
        )
        guard try statement.step() else { return JournalStatistics() }
        return JournalStatistics(
            groups: Int(statement.integer(at: 0)),
            entries: Int(statement.integer(at: 1)),
            transactions: Int(statement.integer(at: 2)),
            payloadBytes: Int(statement.integer(at: 3))
        )
    }

    /// A new random epoch: 16 lowercase hex characters.
    static func newEpoch() -> String {
        HexDigits.randomWord()
    }
}
