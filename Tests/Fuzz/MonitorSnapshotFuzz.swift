// libFuzzer target: the monitor snapshot decoder must turn every byte sequence into a monitor or
// a MonitorSnapshotError — never a crash. The input is taken as a snapshot's body (magic and
// version are prepended and the checksum computed, so the structural checks are reached rather
// than stopped at the checksum); a monitor that decodes must re-encode to exactly those bytes
// (the format is canonical) and keep working when more transactions are applied.
// Built by Tests/Fuzz/run.sh together with Sources/Monitor (one module).

let fuzzConfigurations = [
    MonitorConfiguration(),
    MonitorConfiguration(
        amountThreshold: Money(cents: 1_000), spikeWindowSeconds: 60, spikeThreshold: 1, topK: 2, recentAlertCapacity: 2,
        spikeClockMarginSeconds: 0),
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMonitorSnapshot(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    // The raw bytes as a whole snapshot: only errors (the checksum almost always).
    for configuration in fuzzConfigurations { _ = try? TransactionMonitor(snapshot: input, configuration: configuration) }
    var writer = SnapshotWriter(capacity: size + 16)
    for byte in TransactionMonitor.snapshotMagic { writer.write(byte) }
    writer.write(TransactionMonitor.snapshotFormatVersion)
    for byte in input { writer.write(byte) }
    writer.finish()
    let snapshot = writer.bytes
    for configuration in fuzzConfigurations {
        guard var monitor = try? TransactionMonitor(snapshot: snapshot, configuration: configuration) else { continue }
        if monitor.encodeSnapshot() != snapshot { fatalError("a decodable snapshot is not the encoder's own bytes") }
        for index in 0..<8 {
            let next = Transaction(
                id: nil, investorId: "i\(index % 3)", syndicateId: "s\(index % 2)", amount: Money(cents: 2_000),
                timestamp: Int64(index) * 700)
            _ = monitor.apply(TransactionBatch([next]), alerts: { _ in })
        }
        _ = monitor.rankings(limit: 10)
        _ = monitor.recentAlerts(limit: 10)
    }
    return 0
}
