import Monitor
import Testing

/// The rule clock's margin M (`--max-clock-skew` in `serve`, docs/SPIKE-RULE.md): one producer
/// that dates a transaction M ahead must not switch the spike rule off for everyone else.
@Suite("Monitor: the spike rule's clock margin")
struct MonitorSpikeClockMarginTests {
    static let second: Int64 = 1000
    /// W = 2 s, S = 2, M = 300 s.
    static let configuration = MonitorConfiguration(
        spikeWindowSeconds: 2, spikeThreshold: 2, topK: 3, spikeClockMarginSeconds: 300)

    @Test("a transaction M ahead leaves on-time syndicates evaluated; only lags beyond W + M are ignored")
    func futureTransactionDoesNotSilenceOthers() throws {
        var monitor = TransactionMonitor(configuration: Self.configuration)
        let now = 1_000 * Self.second
        _ = monitor.apply(transaction("i", "ahead", cents: 1, at: now + 300 * Self.second))  // G = now + M
        var alerts: [Alert] = []
        for _ in 0..<3 { alerts += MonitorSpikeClockTests.spikeAlerts(monitor.apply(transaction("i", "honest", cents: 1, at: now))) }
        #expect(alerts.map(\.details) == [.syndicateSpike(count: 3, windowSeconds: 2, threshold: 2)])
        // G − W − M = now − 2 s: at or before it the rule ignores, one millisecond later it counts.
        for _ in 0..<3 { _ = monitor.apply(transaction("i", "late", cents: 1, at: now - 2 * Self.second)) }
        #expect(try #require(monitor.syndicate("late")).newestTimestamp == nil)
        _ = monitor.apply(transaction("i", "late", cents: 1, at: now - 2 * Self.second + 1))
        #expect(try #require(monitor.syndicate("late")).windowCount == 1)
    }

    @Test("windows expire at G − 2W − M, not earlier")
    func expiryWaitsForTheMargin() {
        var monitor = TransactionMonitor(configuration: Self.configuration)
        for offset in 0..<5 { _ = monitor.apply(transaction("i", "quiet", cents: 1, at: Int64(offset))) }
        _ = monitor.apply(transaction("i", "active", cents: 1, at: 4 + 304 * Self.second - 1))
        #expect(monitor.syndicate("quiet")?.windowCount == 5)
        _ = monitor.apply(transaction("i", "active", cents: 1, at: 4 + 304 * Self.second))
        #expect(monitor.syndicate("quiet")?.windowCount == 0)
    }

    @Test("no margin bound: G never ignores and never expires")
    func unboundedMargin() {
        var configuration = Self.configuration
        configuration.spikeClockMarginSeconds = nil
        var monitor = TransactionMonitor(configuration: configuration)
        for offset in 0..<2 { _ = monitor.apply(transaction("i", "old", cents: 1, at: Int64(offset))) }
        _ = monitor.apply(transaction("i", "ahead", cents: 1, at: 10_000_000 * Self.second))
        #expect(monitor.syndicate("old")?.windowCount == 2)
        let alerts = MonitorSpikeClockTests.spikeAlerts(monitor.apply(transaction("i", "old", cents: 1, at: 2)))
        #expect(alerts.map(\.details) == [.syndicateSpike(count: 3, windowSeconds: 2, threshold: 2)])
    }
}
