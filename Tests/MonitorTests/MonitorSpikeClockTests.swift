import Monitor
import PropertyBased
import Testing

/// DESIGN.md §4's spike rule over many syndicates with the rule clock of docs/SPIKE-RULE.md,
/// literally: G is the newest timestamp accepted for any syndicate; a timestamp at or before
/// G − W is ignored; a syndicate's window count reads 0 once its newest is at or before G − 2W.
struct RuleClockSpikeReference {
    let window: Int64
    let threshold: Int
    var clock: Int64?
    var syndicates: [String: SpikeReference] = [:]

    /// Returns the count when an alert is raised.
    mutating func record(_ syndicate: String, _ timestamp: Int64) -> Int? {
        defer { clock = max(clock ?? timestamp, timestamp) }
        if let clock, timestamp <= clock - window { return nil }
        return syndicates[syndicate, default: SpikeReference(window: window, threshold: threshold)].record(timestamp)
    }

    func windowCount(_ syndicate: String) -> Int {
        guard let state = syndicates[syndicate], let newest = state.newest else { return 0 }
        if let clock, newest <= clock - 2 * window { return 0 }
        return state.count
    }

    /// The entries the monitor must hold (`lower`) and may hold before its sweep reaches them.
    var entryBounds: (lower: Int, upper: Int) {
        var lower = 0
        var upper = 0
        for state in syndicates.values {
            guard let newest = state.newest else { continue }
            upper += state.distinctCount
            if let clock, newest <= clock - 2 * window { continue }
            lower += state.distinctCount
        }
        return (lower, upper)
    }
}

@Suite("Monitor: the spike rule's clock across syndicates (docs/SPIKE-RULE.md)")
struct MonitorSpikeClockTests {
    static let second: Int64 = 1000
    static let configuration = MonitorConfiguration(spikeWindowSeconds: 2, spikeThreshold: 2, topK: 3)

    static func spikeAlerts(_ events: [MonitorEvent]) -> [Alert] {
        events.compactMap {
            if case .alert(let alert) = $0, alert.rule == .syndicateSpike { return alert } else { return nil }
        }
    }

    @Test("a timestamp at or before G − W is ignored by the spike rule, even in order for its syndicate")
    func globalClockIgnores() throws {
        var monitor = TransactionMonitor(configuration: Self.configuration)
        _ = monitor.apply(transaction("i", "busy", cents: 100, at: 100 * Self.second))  // G = 100 s
        // s1 has seen nothing, but 98 s is at G − W: three of them would spike; none is counted.
        for _ in 0..<3 { #expect(Self.spikeAlerts(monitor.apply(transaction("i", "s1", cents: 100, at: 98 * Self.second))).isEmpty) }
        let ignored = try #require(monitor.syndicate("s1"))
        #expect(ignored.windowCount == 0 && ignored.newestTimestamp == nil && ignored.transactionCount == 3)
        #expect(monitor.investor("i")?.totalInvested == MoneyTotal(cents: 400))  // rankings still count them
        // Just after G − W, they count and spike.
        for _ in 0..<2 { _ = monitor.apply(transaction("i", "s1", cents: 100, at: 98 * Self.second + 1)) }
        let alerts = Self.spikeAlerts(monitor.apply(transaction("i", "s1", cents: 100, at: 98 * Self.second + 1)))
        #expect(alerts.map(\.details) == [.syndicateSpike(count: 3, windowSeconds: 2, threshold: 2)])
    }

    @Test("a syndicate quiet for more than 2W of rule-clock time holds no entries")
    func quietSyndicatesExpire() {
        var monitor = TransactionMonitor(configuration: Self.configuration)
        for index in 0..<100 {
            for offset in 0..<5 { _ = monitor.apply(transaction("i", "quiet-\(index)", cents: 1, at: Int64(offset))) }
        }
        #expect(monitor.spikeWindowEntryCount == 500)
        // G moves to exactly 2W past the quiet syndicates' newest (4 ms): every one expires.
        _ = monitor.apply(transaction("i", "active", cents: 1, at: 4 + 4 * Self.second))
        #expect(monitor.syndicate("quiet-0")?.windowCount == 0)  // before the sweep reaches it
        #expect(monitor.syndicate("quiet-99")?.isSpiking == true)  // kept until a later evaluation
        for _ in 0..<50 { _ = monitor.apply(transaction("i", "active", cents: 1, at: 4 + 4 * Self.second)) }
        #expect(monitor.spikeWindowEntryCount == 1)
        #expect(monitor.syndicate("active")?.windowCount == 51)
        // A quiet syndicate that comes back starts a fresh window.
        let back = monitor.apply(transaction("i", "quiet-7", cents: 1, at: 5 * Self.second))
        #expect(Self.spikeAlerts(back).isEmpty)
        #expect(monitor.syndicate("quiet-7")?.windowCount == 1)
        #expect(monitor.syndicate("quiet-7")?.isSpiking == false)
        #expect(monitor.spikeWindowEntryCount == 2)
    }

    @Test("one millisecond short of 2W, the last window is still held and reported")
    func notYetExpired() {
        var monitor = TransactionMonitor(configuration: Self.configuration)
        for offset in 0..<3 { _ = monitor.apply(transaction("i", "s1", cents: 1, at: Int64(offset))) }
        for _ in 0..<10 { _ = monitor.apply(transaction("i", "s2", cents: 1, at: 2 + 4 * Self.second - 1)) }
        #expect(monitor.syndicate("s1")?.windowCount == 3)
        #expect(monitor.spikeWindowEntryCount == 4)
    }

    /// Random streams over four syndicates with steps around W = 2 s: investor, syndicate,
    /// step in ms (negative: out of order).
    static let randomSteps = zip(Gen.int(in: 0...2), Gen.int(in: 0...3), Gen.int(in: -4_500...3_000)).array(of: 1...150)

    @Test("random streams across syndicates match the rule-clock reference; replays are identical")
    func propertyAgainstReference() async {
        await propertyCheck(count: 200, input: Self.randomSteps) { steps in
            var monitor = TransactionMonitor(configuration: Self.configuration)
            var replay = TransactionMonitor(configuration: Self.configuration)
            var reference = RuleClockSpikeReference(window: 2 * Self.second, threshold: 2)
            var clock: Int64 = 0
            for (index, step) in steps.enumerated() {
                clock += Int64(step.2 / 300 * 300)  // ties on purpose
                let next = transaction("i\(step.0)", "s\(step.1)", cents: 1, at: clock, id: "t\(index)")
                let events = monitor.apply(next)
                #expect(replay.apply(next) == events)
                let expected = reference.record("s\(step.1)", clock)
                #expect(
                    Self.spikeAlerts(events).map(\.details)
                        == (expected.map { [.syndicateSpike(count: $0, windowSeconds: 2, threshold: 2)] } ?? []))
                for syndicate in 0..<4 {
                    #expect(monitor.syndicate("s\(syndicate)")?.windowCount ?? 0 == reference.windowCount("s\(syndicate)"))
                    #expect(
                        monitor.syndicate("s\(syndicate)")?.isSpiking ?? false == reference.syndicates["s\(syndicate)"]?.spiking ?? false)
                }
                let bounds = reference.entryBounds
                #expect(bounds.lower <= monitor.spikeWindowEntryCount && monitor.spikeWindowEntryCount <= bounds.upper)
                #expect(replay.spikeWindowEntryCount == monitor.spikeWindowEntryCount)
            }
        }
    }
}
