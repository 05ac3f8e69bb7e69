extension TransactionMonitor {
    /// The best `limit` investors (any limit; see ``Rankings/top(_:)``).
    public func rankings(limit: Int) -> [RankingEntry] {
        rankings.top(limit)
    }

    /// The maintained top K, as last published.
    public var leaderboard: [RankingEntry] { rankings.leaderboard }

    /// One investor's totals, or `nil` if unknown.
    public func investor(_ investorId: String) -> InvestorSummary? {
        rankings.investor(investorId)
    }

    /// One syndicate's totals and window state, or `nil` if unknown (ids match by their UTF-8 bytes).
    public func syndicate(_ syndicateId: String) -> SyndicateSummary? {
        guard let state = state(ofSyndicate: KeyedIdentifier(syndicateId)) else { return nil }
        return SyndicateSummary(
            syndicateId: syndicateId, windowCount: spikeWindowCount(of: state),
            windowSeconds: configuration.spikeWindowSeconds, spikeThreshold: configuration.spikeThreshold,
            isSpiking: state.window.isSpiking, totalInvested: state.total,
            transactionCount: state.transactionCount, newestTimestamp: state.window.newestTimestamp)
    }

    /// Up to `limit` recent alerts (at most ``MonitorConfiguration/recentAlertCapacity``), newest first.
    public func recentAlerts(limit: Int) -> [Alert] {
        recentAlertRing.newest(limit)
    }
}
