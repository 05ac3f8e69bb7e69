import Foundation
import Monitor

/// `syndicast-microbench RUNS snapshot`: the cluster snapshot of a monitor that applied 1M
/// transactions over 100k investors and 1k syndicates (default rules: W = 1 h, S = 100, K = 5,
/// 1,000 recent alerts). One transaction per millisecond, so every syndicate's window holds all
/// its ~1,000 distinct timestamps (the largest windows this history can give); investors and
/// syndicates drawn at random, amounts up to 20,000.00 (half of them raise an amount alert).
/// Prints the size, the median encode and decode (restore) times, and what the first transaction
/// costs after a copy of the monitor is handed away (to be encoded elsewhere).
func snapshotBenchmark(runs: Int) {
    let transactionCount = 1_000_000
    let base: Int64 = 1_764_237_600_000
    var generator = SplitMix64(state: 15)
    let investors = (0..<100_000).map { "investor-\($0)" }
    let syndicates = (0..<1_000).map { "syndicate-\($0)" }
    let transactions = (0..<transactionCount).map { index in
        Transaction(
            id: nil, investorId: investors[Int(generator.next() % 100_000)], syndicateId: syndicates[Int(generator.next() % 1_000)],
            amount: Money(cents: Int64(generator.next() % 2_000_000) + 1), timestamp: base + Int64(index))
    }
    let configuration = MonitorConfiguration()
    var monitor = TransactionMonitor(configuration: configuration)
    var alerts = 0
    _ = monitor.apply(TransactionBatch(transactions), alerts: { _ in alerts += 1 })
    print("== monitor snapshot: \(transactionCount) tx, 100k investors, 1k syndicates (median of \(runs) runs)")
    print("   \(alerts) alerts, \(monitor.spikeWindowEntryCount) window entries")
    var bytes: [UInt8] = []
    let encode = medianMilliseconds { bytes = monitor.encodeSnapshot() }
    var restored: TransactionMonitor?
    let decode = medianMilliseconds { restored = try? TransactionMonitor(snapshot: bytes, configuration: configuration) }
    print(
        String(
            format: "   size %.2f MB (%d bytes, %.1f per transaction)", Double(bytes.count) / 1e6, bytes.count,
            Double(bytes.count) / Double(transactionCount)))
    print(String(format: "   encode %.1f ms, decode (restore) %.1f ms", encode, decode))
    let same = restored.map { $0.encodeSnapshot() == bytes && $0.leaderboard == monitor.leaderboard } ?? false
    print("   restored state re-encodes identically: \(same)")
    // The broker can hand a copy (O(1)) to another thread to encode; its next transaction then
    // pays for copying the arrays it writes to (copy-on-write).
    var copies: [TransactionMonitor] = []
    let next = Transaction(id: nil, investorId: investors[7], syndicateId: syndicates[7], amount: Money(cents: 100), timestamp: base)
    let firstWrite = medianMilliseconds {
        copies.append(monitor)
        _ = monitor.apply(TransactionBatch([next]), alerts: { _ in })
    }
    print(String(format: "   first transaction after handing a copy away %.1f ms", firstWrite))
}
