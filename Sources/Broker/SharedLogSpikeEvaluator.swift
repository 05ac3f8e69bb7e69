import Monitor

/// The ingest script's spike section in Swift, for ``InMemorySharedLog``: the spike rule of
/// docs/SPIKE-RULE.md over the applied transactions of each appended group, in order, on the
/// monitor's own ``SpikeWindow`` and the same rule clock G, giving the entry's decisions
/// (``SharedLogSpikeDecisions``). Broker tests then run `--spike-store redis` mode without Redis;
/// Tests/integration/test_cluster_spike_script.py checks the script against the same rule.
///
/// Quiet windows are not swept (the sweep changes memory, not outcomes).
struct SharedLogSpikeEvaluator {
    let rule: SharedLogSpikeRule
    private var windows: [String: SpikeWindow] = [:]
    /// G, the newest timestamp of any applied transaction; nil before the first.
    private var clock: Int64?

    init(rule: SharedLogSpikeRule) {
        self.rule = rule
    }

    /// Evaluates the group's transactions that `skip` leaves, in order.
    mutating func evaluate(_ group: SharedLogGroup, skip: SharedLogSkipSet) -> SharedLogSpikeDecisions {
        var decisions = SharedLogSpikeDecisions()
        let lag = rule.marginMilliseconds.flatMap { margin -> Int64? in
            let (sum, overflow) = rule.windowMilliseconds.addingReportingOverflow(margin)
            return overflow ? nil : sum
        }
        for (request, item) in group.requests.enumerated() where !skip.isRefused(request) {
            let duplicates = Set(skip.duplicates[request] ?? [])
            for (index, transaction) in item.transactions.enumerated() where !duplicates.contains(index) {
                let timestamp = transaction.timestamp
                let floor = clock.flatMap { clock -> Int64? in
                    guard let lag else { return nil }
                    let (value, overflow) = clock.subtractingReportingOverflow(lag)
                    return overflow ? nil : value
                }
                if clock.map({ timestamp > $0 }) ?? true { clock = timestamp }
                var window =
                    windows.removeValue(forKey: transaction.syndicateId)
                    ?? SpikeWindow(windowMilliseconds: rule.windowMilliseconds, threshold: rule.threshold)
                let wasSpiking = window.isSpiking
                switch window.record(timestamp, ignoringAtOrBefore: floor) {
                case .alert(let count): decisions.record(.alert(count: count), request: request, index: index)
                case .evaluated where wasSpiking && !window.isSpiking: decisions.record(.ended, request: request, index: index)
                default: break
                }
                windows[transaction.syndicateId] = window
            }
        }
        return decisions
    }
}
