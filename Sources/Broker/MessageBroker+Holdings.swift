import Monitor

/// What the process holds in memory on the broker's side, for the `/metrics` gauges.
public struct BrokerHoldings: Sendable, Equatable {
    /// Distinct investors.
    public var investors: Int
    /// Distinct syndicates.
    public var syndicates: Int
    /// Spike-window entries across all syndicates.
    public var windowEntries: Int
    /// Events in the resume history.
    public var historyEvents: Int
    /// Bytes the resume history holds (``BrokerEvent/retainedBytes`` summed).
    public var historyBytes: Int
    /// Transaction ids remembered for idempotency.
    public var idempotencyIds: Int
}

extension MessageBroker {
    /// The current holdings (O(syndicates) for the window entries; call per scrape, not per request).
    public var holdings: BrokerHoldings {
        let counts = monitor.counts
        return BrokerHoldings(
            investors: counts.investors, syndicates: counts.syndicates, windowEntries: monitor.spikeWindowEntryCount,
            historyEvents: history.count, historyBytes: history.byteCount, idempotencyIds: knownIds.count)
    }
}

extension MessageBroker {
    /// Resumes and alerts counted so far (plain integers of the broker's thread).
    public var eventCounts: BrokerCounts { counts }
}
