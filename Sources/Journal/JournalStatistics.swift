/// Counts of what a journal holds (for `/api/stats` and `/metrics`).
public struct JournalStatistics: Sendable, Equatable {
    /// Commit groups stored (one SQLite row and one commit each).
    public var groups: Int
    /// Entries stored: transaction batches plus published messages.
    public var entries: Int
    /// Transactions stored, summed over all batches.
    public var transactions: Int
    /// Encoded payload bytes stored, before SQLite's own overhead.
    public var payloadBytes: Int

    /// Creates statistics from counts.
    public init(groups: Int = 0, entries: Int = 0, transactions: Int = 0, payloadBytes: Int = 0) {
        self.groups = groups
        self.entries = entries
        self.transactions = transactions
        self.payloadBytes = payloadBytes
    }

    /// The statistics after one more group of `entries` holding `transactions`, encoded in `bytes`.
    func adding(entries: Int, transactions: Int, bytes: Int) -> JournalStatistics {
        JournalStatistics(
            groups: groups &+ 1,
            entries: self.entries &+ entries,
            transactions: self.transactions &+ transactions,
            payloadBytes: payloadBytes &+ bytes
        )
    }
}
