/// Taking and restoring the broker's part of a cluster snapshot (``BrokerSnapshot``).
extension MessageBroker {
    /// The broker's part of a snapshot, taken together with ``state``'s
    /// ``TransactionMonitor/encodeSnapshot()`` (on the broker, so that both see the same entries).
    public func snapshot() -> BrokerSnapshot {
        BrokerSnapshot(
            seq: seq, transactions: stats.transactions, amountThresholdAlerts: counts.amountThresholdAlerts,
            syndicateSpikeAlerts: counts.syndicateSpikeAlerts, window: knownIds.window)
    }

    /// Continues from `snapshot` on a broker created with the monitor restored from the same
    /// snapshot, before any entry is applied: the next event gets `snapshot.seq + 1`, and the ids
    /// of the snapshot's window are known (its newest `idempotencyWindow` of them). The restored
    /// transactions count as replayed (not in the first tick's rate).
    public func restore(_ snapshot: BrokerSnapshot) {
        seq = snapshot.seq
        stats.transactions = snapshot.transactions
        stats.replayed = snapshot.transactions
        counts.amountThresholdAlerts = snapshot.amountThresholdAlerts
        counts.syndicateSpikeAlerts = snapshot.syndicateSpikeAlerts
        knownIds = IdempotencyIndex(capacity: configuration.idempotencyWindow, restoring: snapshot.window)
    }
}
