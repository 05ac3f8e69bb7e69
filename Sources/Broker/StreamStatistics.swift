/// Counters behind the `stats` event and `/api/stats`.
struct StreamStatistics {
    /// Transactions applied since start (replay included).
    var transactions = 0
    /// Transactions per second over the last tick.
    var transactionsPerSecond = 0
    private var lastTickTransactions = 0
    private var lastTickTime: Int64 = 0

    /// Updates the rate at a tick (`now` in monotonic milliseconds).
    mutating func tick(now: Int64) {
        if lastTickTime > 0, now > lastTickTime {
            transactionsPerSecond = Int((Int64(transactions - lastTickTransactions) * 1_000) / (now - lastTickTime))
        }
        lastTickTransactions = transactions
        lastTickTime = now
    }
}
