/// What is known about one syndicate (`GET /api/syndicates/{id}`).
public struct SyndicateSummary: Sendable, Hashable {
    /// The syndicate.
    public var syndicateId: String
    /// Transactions in the window ending at the newest timestamp.
    public var windowCount: Int
    /// W, in seconds.
    public var windowSeconds: Int64
    /// S.
    public var spikeThreshold: Int
    /// Whether the last evaluation found a spike.
    public var isSpiking: Bool
    /// Sum of all the syndicate's transactions.
    public var totalInvested: MoneyTotal
    /// All transactions ever applied to the syndicate.
    public var transactionCount: Int
    /// The newest event time seen (epoch ms).
    public var newestTimestamp: Int64?

    /// Creates a summary.
    public init(
        syndicateId: String, windowCount: Int, windowSeconds: Int64, spikeThreshold: Int, isSpiking: Bool,
        totalInvested: MoneyTotal, transactionCount: Int, newestTimestamp: Int64?
    ) {
        self.syndicateId = syndicateId
        self.windowCount = windowCount
        self.windowSeconds = windowSeconds
        self.spikeThreshold = spikeThreshold
        self.isSpiking = isSpiking
        self.totalInvested = totalInvested
        self.transactionCount = transactionCount
        self.newestTimestamp = newestTimestamp
    }
}

/// Running totals of a ``TransactionMonitor`` (for `/api/stats` and metrics).
public struct MonitorCounts: Sendable, Hashable {
    /// Transactions applied.
    public var transactions = 0
    /// Transactions refused by ``TransactionMonitor/apply(_:)`` because the amount was not positive (only
    /// possible when ``TransactionMonitor/validate(_:)`` was skipped).
    public var rejected = 0
    /// Alerts raised by the amount rule.
    public var amountAlerts = 0
    /// Alerts raised by the spike rule.
    public var spikeAlerts = 0
    /// Times the top K changed.
    public var rankingChanges = 0
    /// Distinct investors.
    public var investors = 0
    /// Distinct syndicates.
    public var syndicates = 0

    /// All alerts.
    public var alerts: Int { amountAlerts + spikeAlerts }

    /// Creates zero counts.
    public init() {}
}
