/// The monitor with the spike rule evaluated elsewhere (cluster mode with `--spike-store redis`:
/// the shared log's script decides, docs/CLUSTER.md "Spike rule in Redis").
///
/// The monitor then keeps no spike windows (the memory they take lives in Redis): per syndicate it
/// keeps the newest timestamp the rule took and whether it spikes, from the decisions, and the
/// rule clock G; `windowCount` in `/api/syndicates/{id}` reads 0. Everything else (rankings, the amount rule, alert ids, the order of events) is
/// exactly ``apply(_:before:alerts:)``'s, so the same decisions give the same alerts the
/// in-process rule raises. A monitor is used in one mode only: mixing them would evaluate the
/// rule on a partial window.
extension TransactionMonitor {
    /// Applies a batch like ``apply(_:before:alerts:)``, with the spike rule's outcome for
    /// transaction `index` given by `spikeDecisions(index)` (nil: no alert and no change of
    /// spiking) instead of evaluated here.
    public mutating func apply(
        _ batch: TransactionBatch, spikeDecisions: (Int) -> ExternalSpikeDecision?, before: (Int) -> Void = { _ in },
        alerts: (Alert) -> Void
    ) -> Bool {
        var changed = false
        batch.forEach { index, transaction in
            before(index)
            if applyTransaction(transaction, spikeDecision: spikeDecisions(index), alerts: alerts) { changed = true }
        }
        return changed
    }

    /// Applies one transaction, with its spike decision made elsewhere; returns whether the top K
    /// changed. The same steps, in the same order, as the in-process path.
    private mutating func applyTransaction(
        _ transaction: TransactionBatch.Fields, spikeDecision: ExternalSpikeDecision?, alerts: (Alert) -> Void
    ) -> Bool {
        let amount = transaction.amount
        guard amount.cents > 0 else {
            counts.rejected += 1
            return false
        }
        let ordinal = rankings.syndicateOrdinal(of: transaction.syndicate)
        let syndicate = Int(ordinal)
        while syndicateStates.count <= syndicate {
            syndicateStates.append(
                SyndicateState(
                    window: SpikeWindow(
                        windowMilliseconds: configuration.spikeWindowMilliseconds, threshold: configuration.spikeThreshold)))
        }
        let rankingsChanged = rankings.apply(investor: transaction.investor, amount: amount, syndicate: ordinal)
        counts.transactions += 1
        counts.investors = rankings.investorCount

        if amountRule.isTriggered(by: amount) {
            counts.amountAlerts += 1
            alerts(raise(.amountThreshold(amount: amount, threshold: amountRule.threshold), for: transaction.copy()))
        }
        if syndicateStates[syndicate].transactionCount == 0 { counts.syndicates += 1 }
        syndicateStates[syndicate].total.add(amount)
        syndicateStates[syndicate].transactionCount += 1
        // G is kept (it is one number) so that `newestTimestamp` leaves out what the rule clock
        // ignores, as in process; the sweep has nothing to empty.
        let timestamp = transaction.timestamp
        let ignored = spikeClock.ignoreFloor.map { timestamp <= $0 } ?? false
        syndicateStates[syndicate].window.noteExternallyDecided(ignored ? nil : timestamp, spikeDecision)
        if timestamp > spikeClock.newest {
            spikeClock.advance(
                to: timestamp, lagMilliseconds: configuration.spikeClockLagMilliseconds,
                windowMilliseconds: configuration.spikeWindowMilliseconds, syndicates: 0)
        }
        if case .alert(let count) = spikeDecision {
            counts.spikeAlerts += 1
            alerts(
                raise(
                    .syndicateSpike(
                        count: count, windowSeconds: configuration.spikeWindowSeconds,
                        threshold: configuration.spikeThreshold),
                    for: transaction.copy()))
        }
        if rankingsChanged { counts.rankingChanges += 1 }
        return rankingsChanged
    }
}
