// libFuzzer target: the journal payload decoder must turn every byte sequence into entries or a
// JournalError — never a crash. A version-2 payload that decodes must be exactly what the encoder
// writes for those entries (the format is canonical: one encoding per group), and any decoded
// group (version 1 or 2) must survive encoding and decoding again unchanged, its size predicted.
// Built by Tests/Fuzz/run.sh together with Sources/Monitor and the codec files of Sources/Journal
// (one module, their `import Monitor` lines removed).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJournalPayload(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    guard let entries = try? JournalPayloadCodec.decode(bytes) else { return 0 }
    let encoded = JournalPayloadCodec.encode(entries)
    if encoded.count != JournalPayloadCodec.encodedSize(of: entries) {
        fatalError("encodedSize disagrees with encode")
    }
    if data[0] == JournalPayloadCodec.formatVersion && !encoded.elementsEqual(bytes) {
        fatalError("a decodable version-2 payload is not the encoder's own bytes")
    }
    guard let again = try? JournalPayloadCodec.decode(encoded), again == entries else {
        fatalError("re-encoded entries do not decode to the same entries")
    }
    return 0
}
