// libFuzzer target: the broker snapshot decoder must turn every byte sequence into a snapshot or a
// BrokerSnapshot.DecodingError — never a crash, and never an allocation larger than the input
// (the id and batch counts are checked against the bytes left). The input is taken as a
// snapshot's body (magic and version are prepended and the checksum computed, so the structural
// checks are reached rather than stopped at the checksum); a snapshot that decodes must re-encode
// to exactly those bytes (the format is canonical).
// Built by Tests/Fuzz/run.sh from BrokerSnapshot*.swift and IdempotencyWindow (one module).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBrokerSnapshot(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    // The raw bytes as a whole snapshot: only errors (the checksum almost always).
    _ = try? BrokerSnapshot(decoding: input)
    var snapshot = BrokerSnapshot.magic + [BrokerSnapshot.formatVersion] + input
    let checksum = snapshot.withUnsafeBytes { BrokerSnapshot.checksum($0) }
    for shift in stride(from: 0, to: 64, by: 8) { snapshot.append(UInt8(truncatingIfNeeded: checksum >> UInt64(shift))) }
    guard let decoded = try? BrokerSnapshot(decoding: snapshot) else { return 0 }
    if decoded.encode() != snapshot { fatalError("a decodable snapshot is not the encoder's own bytes") }
    if decoded.window.batches.reduce(0, { $0 + $1.count }) > decoded.window.ids.count {
        fatalError("the batches cover more ids than the window holds")
    }
    return 0
}
