import Broker
import Foundation
import Monitor

/// `syndicast-microbench RUNS brokersnapshot`: the broker's part of a cluster snapshot with a full
/// idempotency window of 1M ids (`--idempotency-window`'s default) in 1,000 batches (log times).
/// Prints the size, the median encode and decode times (and the checksum's share of each), and, on
/// the broker's thread, what `snapshot()` (capturing the window) and `restore(_:)` (rebuilding the
/// index) cost.
func brokerSnapshotBenchmark(runs: Int) {
    let idCount = 1_000_000
    var generator = SplitMix64(state: 15)
    let ids = (0..<idCount).map { _ in
        IdempotencyWindow.Id(high: generator.next() | 1, low: generator.next(), fingerprint: Int(truncatingIfNeeded: generator.next()))
    }
    let batches = (0..<(idCount / 1_000)).map { IdempotencyWindow.Batch(count: 1_000, time: 1_764_237_600_000 + UInt64($0) * 7) }
    let snapshot = BrokerSnapshot(
        seq: 3_000_000, transactions: idCount, amountThresholdAlerts: 1_234, syndicateSpikeAlerts: 56,
        window: IdempotencyWindow(ids: ids, batches: batches))
    print("== broker snapshot: a window of \(idCount) ids in \(batches.count) batches (median of \(runs) runs)")
    var bytes: [UInt8] = []
    let encode = medianMilliseconds { bytes = snapshot.encode() }
    var decoded: BrokerSnapshot?
    let decode = medianMilliseconds { decoded = try? BrokerSnapshot(decoding: bytes) }
    // The format's checksum (FNV-1a, a byte at a time), for its share of both.
    var checksum: UInt64 = 0
    let checksumTime = medianMilliseconds {
        checksum = 0xcbf2_9ce4_8422_2325
        for byte in bytes { checksum = (checksum ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
    }
    print(
        String(
            format: "   size %.2f MB (%d bytes, %.1f per id)", Double(bytes.count) / 1e6, bytes.count, Double(bytes.count) / Double(idCount)
        ))
    print(String(format: "   encode %.1f ms, decode %.1f ms (FNV-1a checksum %.1f ms of each)", encode, decode, checksumTime))
    print("   decodes to the same snapshot: \(decoded == snapshot)")

    // On the broker's thread: `restore` rebuilds the index (1M inserts), `snapshot()` reads the
    // window back (1M lookups in a table of ~50 MB).
    var configuration = BrokerConfiguration()
    configuration.idempotencyWindow = idCount
    let broker = MessageBroker(monitor: TransactionMonitor(), epoch: "bench", configuration: configuration) { _ in }
    let done = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var restoreTimes: [Double] = []
    nonisolated(unsafe) var captureTimes: [Double] = []
    nonisolated(unsafe) var same = false
    for _ in 0..<runs {
        broker.query { broker in
            var start = DispatchTime.now().uptimeNanoseconds
            broker.restore(snapshot)
            restoreTimes.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            start = DispatchTime.now().uptimeNanoseconds
            let captured = broker.snapshot()
            captureTimes.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            same = captured == snapshot
            done.signal()
        }
        done.wait()
    }
    print(
        String(
            format: "   broker thread: restore(_:) %.1f ms, snapshot() %.1f ms; captures what it restored: %@",
            restoreTimes.sorted()[runs / 2], captureTimes.sorted()[runs / 2], same ? "true" : "false"))
    broker.shutdown()
    if checksum == 1 { print("unreachable") }
}
