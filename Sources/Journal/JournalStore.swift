import Monitor

/// The durable, ordered log of every accepted entry: the server's source of truth.
///
/// DESIGN.md §1: "The journal is the source of truth: it holds every accepted transaction and every
/// message published through `/api/publish`, in one order." TransactionMonitor state and sequence numbers are a
/// pure function of that order, so the server calls ``replay(_:)`` once at start-up and then
/// ``append(_:)`` for every commit group.
///
/// Implementations are not safe for concurrent calls, but may be handed between threads: the
/// broker calls one from its own thread (replay, small appends, `close`) or from its journal
/// pipeline's thread (large appends), and waits for the pipeline to be idle before the next call.
public protocol JournalStore: AnyObject, Sendable {
    /// Appends entries atomically and durably (one transaction, one commit).
    ///
    /// Returns only after the commit succeeded; on failure nothing of `entries` is stored and the
    /// journal stays usable. "Ingest commits in groups: many concurrent POSTs share one SQLite
    /// transaction and one fsync" (DESIGN.md §5): pass every entry gathered since the last commit.
    func append(_ entries: [JournalEntry]) throws(JournalError)

    /// Calls `body` with every entry ever appended, in order.
    ///
    /// Used once at start-up. Errors thrown by `body` stop the replay and are rethrown; a damaged
    /// record throws a ``JournalError`` naming it.
    func replay(_ body: (JournalEntry) throws -> Void) throws

    /// Identifies this journal's history: 16 random lowercase hex characters, created once with
    /// the history and kept with it. (The stream's epoch that clients see is derived from it and
    /// the rule configuration, so that other rules give other events another epoch.)
    var epoch: String { get }

    /// How much the journal holds (for `/api/stats`).
    var statistics: JournalStatistics { get }

    /// Releases the journal's resources; later calls to ``append(_:)`` throw. Idempotent.
    func close()
}

/// How hard SQLite pushes each commit to stable storage (`PRAGMA synchronous`).
///
/// `full` (the default) fsyncs the write-ahead log on every commit: a committed group survives
/// power loss. `normal` survives a crash of the process (`kill -9`) but may lose the last commits
/// on power loss. `off` hands writes to the OS without fsync at all.
public enum JournalSynchronous: String, Sendable, CaseIterable {
    /// Fsync the WAL at every commit (`PRAGMA synchronous = FULL`).
    case full
    /// Fsync only at checkpoints (`PRAGMA synchronous = NORMAL`).
    case normal
    /// Never fsync (`PRAGMA synchronous = OFF`).
    case off
}
