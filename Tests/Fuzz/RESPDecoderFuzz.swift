// libFuzzer target: the RESP decoder must turn every byte sequence into values or a
// RESPDecodingError — never a crash, and never an allocation sized by a header alone (the bounds
// are small here so the fuzzer reaches them). Every decoded value must re-encode to bytes that
// decode to the same value, and feeding the same input in two pieces at a fuzzer-chosen split
// must give the same values as feeding it whole (the decoder is incremental).
// Built by Tests/Fuzz/run.sh together with the codec files of Sources/Redis (one module).

/// Decodes every value of `input` fed in `pieces`; stops at the first error.
func decodeInPieces(_ pieces: [ArraySlice<UInt8>], limits: RESPDecoder.Limits) -> (values: [RESPValue], failed: Bool) {
    var decoder = RESPDecoder(limits: limits)
    var kept: [UInt8] = []
    var values: [RESPValue] = []
    for piece in pieces {
        kept.append(contentsOf: piece)
        while true {
            let step = kept.withUnsafeBytes { bytes -> (value: RESPValue?, consumed: Int)? in
                do {
                    return try decoder.decode(bytes)
                } catch {
                    return nil
                }
            }
            guard let step else { return (values, true) }
            kept.removeFirst(step.consumed)
            guard let value = step.value else { break }
            values.append(value)
        }
    }
    return (values, false)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRESPDecoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let limits = RESPDecoder.Limits(maxBulkLength: 1 << 16, maxArrayLength: 1 << 12, maxDepth: 8, maxLineLength: 256)
    // The first byte picks the split point; the rest is the input.
    let input = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let split = input.isEmpty ? 0 : Int(data[0]) % (input.count + 1)
    let whole = decodeInPieces([input[...]], limits: limits)
    let pieces = decodeInPieces([input[..<split], input[split...]], limits: limits)
    if whole.values != pieces.values || whole.failed != pieces.failed {
        fatalError("split input decodes differently from whole input")
    }
    for value in whole.values {
        var encoded: [UInt8] = []
        RESPEncoder.append(value, to: &encoded)
        let again = decodeInPieces([encoded[...]], limits: limits)
        if again.failed || again.values != [value] {
            fatalError("a decoded value does not survive encoding and decoding again")
        }
    }
    return 0
}
