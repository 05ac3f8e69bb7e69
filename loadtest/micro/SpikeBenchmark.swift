import Foundation
import Monitor

/// A small deterministic generator (SplitMix64) so every run shuffles the same way.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}

/// `syndicast-microbench RUNS spike [SIZES]`: one syndicate's spike window fed `n` distinct
/// timestamps, all inside one window (W = 30 days), in order and shuffled; prints both rates and
/// their ratio, for ``SpikeWindow/record(_:)`` alone and through ``Monitor/apply(_:before:alerts:)``
/// (the broker's call). `SIZES` is a comma-separated list of `n` (default 200000,400000).
func spikeBenchmark(runs: Int, sizes: [Int]) {
    let window: Int64 = 30 * 86_400_000
    let base: Int64 = 1_764_237_600_000
    print("== spike window, one syndicate, distinct in-window timestamps (median of \(runs) runs)")
    var sink = 0
    for size in sizes {
        let ordered = (0..<Int64(size)).map { base + $0 }
        var generator = SplitMix64(state: UInt64(size))
        let shuffled = ordered.shuffled(using: &generator)
        func windowRate(_ timestamps: [Int64]) -> Double {
            measure(items: size) {
                var spike = SpikeWindow(windowMilliseconds: window, threshold: 100)
                for timestamp in timestamps {
                    if case .alert = spike.record(timestamp) { sink &+= 1 }
                }
                sink &+= spike.entryCount
            }
        }
        let inOrder = windowRate(ordered)
        let outOfOrder = windowRate(shuffled)
        report("SpikeWindow.record, \(size) in order (records)", inOrder)
        report("SpikeWindow.record, \(size) shuffled (records)", outOfOrder)
        print(String(format: "  shuffled / in order: %.3f", outOfOrder / inOrder))

        func transactions(_ timestamps: [Int64]) -> [Transaction] {
            timestamps.enumerated().map { index, timestamp in
                Transaction(
                    id: "t\(index)", investorId: "investor-\(index % 997)", syndicateId: "one",
                    amount: Money(cents: 100), timestamp: timestamp)
            }
        }
        let configuration = MonitorConfiguration(spikeWindowSeconds: window / 1000, spikeThreshold: 100)
        func monitorRate(_ batch: [Transaction]) -> Double {
            measure(items: size) {
                var monitor = TransactionMonitor(configuration: configuration)
                _ = monitor.apply(TransactionBatch(batch), alerts: { _ in sink &+= 1 })
                sink &+= monitor.counts.transactions
            }
        }
        let monitorInOrder = monitorRate(transactions(ordered))
        let monitorShuffled = monitorRate(transactions(shuffled))
        report("Monitor.apply, \(size) in order (transactions)", monitorInOrder)
        report("Monitor.apply, \(size) shuffled (transactions)", monitorShuffled)
        print(String(format: "  shuffled / in order: %.3f", monitorShuffled / monitorInOrder))
    }
    // The in-order path across many syndicates with a rising clock: every transaction moves G,
    // so the sweep of quiet syndicates checks two syndicates per transaction.
    let syndicates = (0..<10_000).map { "syndicate-\($0)" }
    let spread = (0..<200_000).map { index in
        Transaction(
            id: "t\(index)", investorId: "investor-\(index % 997)", syndicateId: syndicates[(index &* 7_919) % syndicates.count],
            amount: Money(cents: 100), timestamp: base + Int64(index))
    }
    let spreadRate = measure(items: spread.count) {
        var monitor = TransactionMonitor(configuration: MonitorConfiguration(spikeWindowSeconds: 60, spikeThreshold: 100))
        _ = monitor.apply(TransactionBatch(spread), alerts: { _ in sink &+= 1 })
        sink &+= monitor.counts.transactions
    }
    report("Monitor.apply, 200000 in order over 10000 syndicates (tx)", spreadRate)
    if sink == -1 { print("unreachable") }
}
