import Monitor

/// A journal that keeps nothing but counts (`--in-memory`).
///
/// ``append(_:)`` always succeeds and counts groups, entries and transactions in ``statistics`` as
/// ``SQLiteJournal`` does (payload bytes stay 0), but the entries themselves are not kept: the
/// TransactionMonitor and MessageBroker already hold the state derived from them, and nothing survives the process
/// anyway. ``replay(_:)`` therefore delivers nothing, and
/// every instance has a fresh random ``epoch``, so a client resuming across a restart is told its
/// history is gone (`"recovered":false`).
public final class InMemoryJournal: JournalStore, @unchecked Sendable {
    /// A fresh random epoch per instance: the history dies with the process.
    public let epoch: String
    /// What ``append(_:)`` has counted since this instance was created.
    public private(set) var statistics = JournalStatistics()
    /// Set by ``close()``.
    private var isClosed = false

    /// Creates an empty journal with a new epoch.
    public init() {
        epoch = SQLiteJournal.newEpoch()
    }

    /// Counts `entries` as one group (an empty `entries` counts nothing); throws only once closed.
    public func append(_ entries: [JournalEntry]) throws(JournalError) {
        guard !isClosed else { throw JournalError("journal is closed") }
        guard !entries.isEmpty else { return }
        var transactionCount = 0
        for entry in entries {
            transactionCount &+= entry.transactionCount
        }
        // No payload bytes: nothing is stored. (Computing the size the SQLite journal would store
        // costs ~4% of in-memory NDJSON ingest, since ids are coded against each other.)
        statistics = statistics.adding(entries: entries.count, transactions: transactionCount, bytes: 0)
    }

    /// Delivers nothing: an in-memory journal keeps no entries to replay.
    public func replay(_ body: (JournalEntry) throws -> Void) throws {
        guard !isClosed else { throw JournalError("journal is closed") }
    }

    /// Makes later appends throw. Idempotent.
    public func close() {
        isClosed = true
    }
}
