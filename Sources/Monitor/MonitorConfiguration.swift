/// The rule parameters of a ``TransactionMonitor`` (command-line flags `--amount-threshold`, `--spike-window`,
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
    /// M, how far (seconds) the spike rule's clock may run ahead of an on-time transaction: the
    /// rule ignores timestamps at or before `G − W − M` (docs/SPIKE-RULE.md). `serve` sets it to
    /// `--max-clock-skew`, the most one producer can push G past the server's clock, so a
    /// future-dated transaction cannot switch the rule off for everyone else; `nil` means no
    /// bound (the rule then never ignores by G and never expires a quiet window).
    public var spikeClockMarginSeconds: Int64?

    /// Creates a configuration; the defaults are the seed's (10000.00, 1 hour, 100, top 5).
    public init(
        amountThreshold: Money = Money(cents: 1_000_000), spikeWindowSeconds: Int64 = 3600,
        spikeThreshold: Int = 100, topK: Int = 5, recentAlertCapacity: Int = 1000,
        spikeClockMarginSeconds: Int64? = 0
    ) {
        self.amountThreshold = amountThreshold
        self.spikeWindowSeconds = spikeWindowSeconds
        self.spikeThreshold = spikeThreshold
        self.topK = topK
        self.recentAlertCapacity = recentAlertCapacity
        self.spikeClockMarginSeconds = spikeClockMarginSeconds
    }

    /// W + M in milliseconds, how far below G the rule's ignore floor sits; `nil` when M is
    /// unbounded or the sum does not fit.
    public var spikeClockLagMilliseconds: Int64? {
        guard let margin = spikeClockMarginSeconds else { return nil }
        let (marginMilliseconds, overflow) = max(margin, 0).multipliedReportingOverflow(by: 1000)
        guard !overflow else { return nil }
        let (lag, sumOverflow) = spikeWindowMilliseconds.addingReportingOverflow(marginMilliseconds)
        return sumOverflow ? nil : lag
    }

    /// W in milliseconds, saturating instead of overflowing; at least 1.
    public var spikeWindowMilliseconds: Int64 {
        let (value, overflow) = spikeWindowSeconds.multipliedReportingOverflow(by: 1000)
        return overflow ? (spikeWindowSeconds < 0 ? 1 : Int64.max) : max(1, value)
    }
}
