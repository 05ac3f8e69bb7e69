import CSQLite
import Monitor

/// The default journal: one SQLite database in WAL mode, one row per commit group.
///
/// Each ``append(_:)`` is one `BEGIN IMMEDIATE … COMMIT` that inserts one row of the `groups` table
/// holding every entry of the group, encoded by ``JournalPayloadCodec``. One row and one fsync per
/// group instead of one per transaction is what lets ingest reach millions of transactions per
/// second: "Ingest commits in groups: many concurrent POSTs share one SQLite transaction and one
/// fsync" (DESIGN.md §5).
///
/// Crash safety: a commit is atomic in SQLite's write-ahead log, so a process killed at any moment
/// (`kill -9`) loses at most the group whose ``append(_:)`` had not returned (DESIGN.md §6). With
/// ``JournalSynchronous/full`` the same holds for power loss.
///
/// The WAL is kept bounded by a checkpoint at the start of the append after 1,000 frames were logged
/// (SQLite's automatic checkpoint ran inside a commit; see `checkpointIfDue`): it copies the log
/// back into the database file, after which the log is reused from the start; `journal_size_limit`
/// truncates a log that one very large group grew beyond 64 MiB.
///
/// The journal holds an exclusive `flock` on `syndicast.lock` in its directory while open
/// (``DataDirectoryLock``), so a second server on the same directory fails with "is locked"
/// instead of interleaving its own history. SQLite itself runs in its normal locking mode, so that
/// `syndicast backup` in another process can read a consistent snapshot through the log's shared
/// memory while appends go on (``backup(from:to:replacing:pagesPerStep:progress:)``). The price is
/// SQLite's file locks, about six `fcntl` calls per commit: `syndicast-microbench` measures
/// 1-transaction commits with `--sync normal` at ~76k/s instead of ~117k/s, 1,000-transaction
/// commits ~3% slower; with `--sync full` the fsync dominates.
///
/// Thread safety: the connection is opened with `SQLITE_OPEN_NOMUTEX`; call the journal from one
/// thread at a time. It may be handed between threads (hence `@unchecked Sendable`), never used by
/// two at once.
public final class SQLiteJournal: JournalStore, @unchecked Sendable {
    /// The database file's name inside the data directory.
    public static let fileName = "syndicast.sqlite3"

    /// The database file's path.
    public let path: String

    /// The database file's path inside `directory`.
    public static func path(in directory: String) -> String {
        directory.hasSuffix("/") ? directory + fileName : directory + "/" + fileName
    }
    /// The history's identity, read from the `meta` table.
    public let epoch: String
    /// Groups, entries and transactions stored (kept in each row as running totals).
    public private(set) var statistics: JournalStatistics

    /// The database connection; `nil` once closed.
    private(set) var connection: SQLiteConnection?
    /// The data directory's lock, released by ``close()``.
    private let directoryLock: DataDirectoryLock
    /// The prepared statements, reused by every append; `nil` once closed.
    private var statements: Statements?

    /// The statements one append runs.
    struct Statements {
        let begin: SQLiteStatement
        let insert: SQLiteStatement
        let commit: SQLiteStatement
        let rollback: SQLiteStatement
    }

    /// Opens the journal in `directory` (created if missing), creating `syndicast.sqlite3` on first use.
    public init(directory: String, synchronous: JournalSynchronous = .full) throws(JournalError) {
        try Self.createDirectory(directory)
        path = Self.path(in: directory)
        directoryLock = try DataDirectoryLock(directory: directory, databasePath: path)
        // With FULL, every commit's fsync returned before the next frame: damage before a later
        // commit is not a torn tail (WriteAheadLogCheck).
        if synchronous == .full { try WriteAheadLogCheck.verify(databasePath: path) }
        let connection = try SQLiteConnection(path: path)
        try Self.configure(connection, path: path, synchronous: synchronous)
        epoch = try Self.prepareSchema(connection)
        statistics = try Self.readStatistics(connection)
        statements = Statements(
            begin: try connection.prepare("BEGIN IMMEDIATE"),
            insert: try connection.prepare(
                "INSERT INTO groups (id, entry_total, transaction_total, payload_total, payload) VALUES (?1, ?2, ?3, ?4, ?5)"
            ),
            commit: try connection.prepare("COMMIT"),
            rollback: try connection.prepare("ROLLBACK")
        )
        self.connection = connection
        // Replaces SQLite's automatic checkpoint (which is this same hook): only records the length.
        if let handle = connection.handle {
            sqlite3_wal_hook(
                handle,
                { context, _, _, frames in
                    if let context { Unmanaged<LogFrames>.fromOpaque(context).takeUnretainedValue().count = frames }
                    return SQLITE_OK
                }, Unmanaged.passUnretained(logFrames).toOpaque())
        }
    }

    deinit {
        close()
    }

    /// Appends `entries` as one group in one SQLite transaction; returns after `COMMIT` succeeded.
    ///
    /// An empty `entries` stores nothing. On any failure the transaction is rolled back, nothing of
    /// `entries` is stored, ``statistics`` are unchanged and the journal stays usable.
    public func append(_ entries: [JournalEntry]) throws(JournalError) {
        guard let statements, let connection else { throw JournalError("journal is closed") }
        guard !entries.isEmpty else { return }
        checkpointIfDue()
        let payload = JournalPayloadCodec.encode(entries)
        var transactionCount = 0
        for entry in entries {
            transactionCount &+= entry.transactionCount
        }
        let next = statistics.adding(entries: entries.count, transactions: transactionCount, bytes: payload.count)
        try statements.begin.run()
        do throws(JournalError) {
            try insert(payload, totals: next, using: statements.insert)
            try statements.commit.run()
        } catch {
            if connection.isInTransaction {
                try? statements.rollback.run()
            }
            throw error
        }
        statistics = next
    }

    /// The log's length in frames after the last commit, as SQLite's write-ahead-log hook reports
    /// it (a box, so that the C callback can write it through a pointer).
    final class LogFrames {
        var count: Int32 = 0
    }
    let logFrames = LogFrames()
    /// How long a log the next append checkpoints first: SQLite's own automatic threshold, 1,000
    /// frames (pages of 4 KiB). Counted in frames, not payload bytes: a small group's commit
    /// logs whole pages, so counting payload bytes lets the log of single-POST ingest grow to tens
    /// of megabytes between checkpoints (a growing file's fsync is slower: −20% requests/s in
    /// `loadtest/wrk/ingest-vs-nginx.sh`).
    static let checkpointFrames: Int32 = 1_000

    /// Copies the log into the database file before an append once 1,000 frames were logged.
    ///
    /// SQLite's automatic checkpoint (turned off by the log hook set in `init`) runs inside the
    /// `COMMIT` that crosses the threshold, so that group's callers would wait for the copy and the
    /// database's fsync as well, and under durable NDJSON ingest every connection's request is in
    /// that group or queued behind it. Run before the next append, the checkpoint overlaps with the
    /// replies to the group before and with parsing and deciding the next one (+0–6% durable NDJSON,
    /// `loadtest/run.sh ingest --batch 1000`). A crash between commit and
    /// checkpoint loses nothing: committed groups are in the log, and opening replays it.
    private func checkpointIfDue() {
        guard logFrames.count >= Self.checkpointFrames, let handle = connection?.handle else { return }
        logFrames.count = 0
        // PASSIVE: never waits. With no reader (the usual case: one writer holds the directory) it
        // copies everything, and the next commit writes the log from its start again; while
        // `syndicast backup` holds a snapshot it copies what precedes it and the log grows until
        // the backup ends.
        _ = sqlite3_wal_checkpoint_v2(handle, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
    }

    /// Inserts one group row; the payload is bound in place, without a copy.
    private func insert(_ payload: [UInt8], totals: JournalStatistics, using insert: SQLiteStatement) throws(JournalError) {
        defer { insert.reset() }
        try insert.bind(Int64(totals.groups), at: 1)
        try insert.bind(Int64(totals.entries), at: 2)
        try insert.bind(Int64(totals.transactions), at: 3)
        try insert.bind(Int64(totals.payloadBytes), at: 4)
        let result: Result<Void, JournalError> = payload.withUnsafeBytes { bytes in
            do throws(JournalError) {
                try insert.bindBlobWithoutCopy(bytes, at: 5)
                try insert.step()
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
    }

    /// Runs raw SQL on the journal's connection (tests use it to damage a database on purpose).
    func execute(_ sql: String) throws(JournalError) {
        guard let connection else { throw JournalError("journal is closed") }
        try connection.execute(sql)
    }

    /// Checkpoints and closes the database, then releases the directory. Later appends throw.
    /// Idempotent.
    public func close() {
        statements = nil
        connection?.close()
        connection = nil
        directoryLock.release()
    }
}
