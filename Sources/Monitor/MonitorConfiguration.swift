/// The rule parameters of a ``Monitor`` (command-line flags `--amount-threshold`, `--spike-window`,
/// `--spike-threshold`; DESIGN.md §3).
public struct MonitorConfiguration: Sendable, Hashable {
    /// Amounts strictly greater than this raise an `amount_threshold` alert.
    public var amountThreshold: Money
    /// W, the spike window, in seconds.
    public var spikeWindowSeconds: Int64
    /// S: a syndicate spikes when more than S transactions fall inside one window.
    public var spikeThreshold: Int
    /// K, the size of the incrementally maintained top list.
    public var topK: Int
    /// How many recent alerts are kept for `/api/alerts` and snapshots.
    public var recentAlertCapacity: Int

    /// Creates a configuration; the defaults are the seed's (10000.00, 1 hour, 100, top 5).
    public init(
        amountThreshold: Money = Money(cents: 1_000_000), spikeWindowSeconds: Int64 = 3600,
        spikeThreshold: Int = 100, topK: Int = 5, recentAlertCapacity: Int = 1000
    ) {
        self.amountThreshold = amountThreshold
        self.spikeWindowSeconds = spikeWindowSeconds
        self.spikeThreshold = spikeThreshold
        self.topK = topK
        self.recentAlertCapacity = recentAlertCapacity
    }

    /// W in milliseconds, saturating instead of overflowing; at least 1.
    public var spikeWindowMilliseconds: Int64 {
        let (value, overflow) = spikeWindowSeconds.multipliedReportingOverflow(by: 1000)
        return overflow ? (spikeWindowSeconds < 0 ? 1 : Int64.max) : max(1, value)
    }
}
