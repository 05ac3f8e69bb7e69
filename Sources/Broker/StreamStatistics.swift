/// Counters behind the `stats` event and `/api/stats`.
struct StreamStatistics {
    /// Transactions applied since start (replay included).
    var transactions = 0
    /// Transactions applied by the journal's replay at start, not live.
    var replayed = 0
    /// Transactions per second over the last tick.
    var transactionsPerSecond = 0
    private var lastTickTransactions = 0
    private var lastTickTime: Int64 = 0

    /// Updates the rate at a tick (`now` in monotonic milliseconds). The first tick (about one
    /// second after the server starts) counts every live transaction since the replay, so a burst
    /// posted right after start shows in the rate instead of vanishing into the baseline.
    mutating func tick(now: Int64) {
        if lastTickTime > 0, now > lastTickTime {
            // Rounded to the nearest: the ~1 s timer fires a millisecond or two late, and
            // truncating would report one transaction in 1,001 ms as 0 per second.
            let elapsed = now - lastTickTime
            transactionsPerSecond = Int((Int64(transactions - lastTickTransactions) * 1_000 + elapsed / 2) / elapsed)
        } else if lastTickTime == 0 {
            transactionsPerSecond = max(0, transactions - replayed)
        }
        lastTickTransactions = transactions
        lastTickTime = now
    }
}
