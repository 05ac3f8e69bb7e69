import Monitor
import Testing

/// Pins the snapshot format: a change to these bytes is a change of format, which needs a new
/// ``TransactionMonitor/snapshotFormatVersion`` (instances of two versions share one Redis during an upgrade).
@Suite("Monitor: snapshot format (golden)")
struct MonitorSnapshotGoldenTests {
    static let configuration = MonitorConfiguration(
        amountThreshold: Money(cents: 1_000), spikeWindowSeconds: 60, spikeThreshold: 1, topK: 2, recentAlertCapacity: 2,
        spikeClockMarginSeconds: 0)

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    /// Two investors, two syndicates, an amount alert and a spike alert.
    static func monitor() -> TransactionMonitor {
        var monitor = TransactionMonitor(configuration: Self.configuration)
        _ = monitor.apply(transaction("i1", "s1", cents: 1_500, at: 1_000, id: "t1"))
        _ = monitor.apply(transaction("i2", "s1", cents: 200, at: 2_000))
        _ = monitor.apply(transaction("i1", "s2", cents: 300, at: 1_500, id: "t3"))
        return monitor
    }

    static let golden = [
        "53594e4d01",  // "SYNM", version 1
        "d00f780204040100",  // configuration: 10.00, 60 s, S 1, K 2, 2 alerts, M 0
        "0300010103",  // counts: 3 tx, 0 rejected, 1 + 1 alerts, 3 ranking changes
        "02027331a40d000203a01f02d00f01e80701",  // 2 syndicates; s1: 17.00, 2 tx, spiking, newest 2000, entries 1000×1, +1000×1
        "027332ac02000101b81701b81701",  // s2: 3.00, 1 tx, newest 1500, entry 1500×1
        "02026931880e00020201010269",  // 2 investors; i1: 18.00, 2 tx, syndicates {0, 1}; i2...
        "32c80100010101",  // ... 2.00, 1 tx, {0}
        "020001",  // leaders: i1, i2
        "a01f0100",  // clock: G 2000, sweep cursor 1, 0 left
        "0203612d3102733102693101027431b817d00fd00f",  // 2 alerts; a-1: s1, i1, t1, amount 15.00 > 10.00, at 1000
        "03612d3202733102693202027802a01f",  // a-2: s1, i2, spike, count 2, 60 s, S 1, at 2000
        "04d4341e930ade82",  // checksum
    ].joined()

    @Test("a small monitor's snapshot has exactly the pinned bytes, and they restore it")
    func pinned() throws {
        let bytes = Self.monitor().encodeSnapshot()
        #expect(Self.hex(bytes) == Self.golden)
        let restored = try TransactionMonitor(snapshot: bytes, configuration: Self.configuration)
        #expect(restored.leaderboard == Self.monitor().leaderboard)
        #expect(restored.recentAlerts(limit: 2) == Self.monitor().recentAlerts(limit: 2))
        #expect(restored.syndicate("s1") == Self.monitor().syndicate("s1"))
    }
}
