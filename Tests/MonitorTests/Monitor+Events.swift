import Monitor

/// What applying one transaction to a ``TransactionMonitor`` produced, in this order: alerts, then rankings
/// (the tests compare streams of these).
enum MonitorEvent: Sendable, Hashable {
    /// A rule fired.
    case alert(Alert)
    /// The top K list changed; the new list, best first.
    case rankingsChanged([RankingEntry])
}

extension TransactionMonitor {
    /// Applies one transaction through ``TransactionMonitor/apply(_:before:alerts:)`` and returns its events.
    mutating func apply(_ transaction: Transaction) -> [MonitorEvent] {
        var events: [MonitorEvent] = []
        if apply(TransactionBatch([transaction]), alerts: { events.append(.alert($0)) }) {
            events.append(.rankingsChanged(leaderboard))
        }
        return events
    }
}
