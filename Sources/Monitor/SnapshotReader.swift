import Basics

/// Reads the fields ``SnapshotWriter`` writes, bounds-checking every read: malformed bytes are a
/// ``MonitorSnapshotError``, never a trap. Accepts only the writer's own encoding (shortest
/// varints), so a snapshot that decodes re-encodes to the same bytes.
struct SnapshotReader {
    private let bytes: [UInt8]
    private var position: Int
    private let end: Int

    /// Counts and lengths above this are refused: no monitor holds that many of anything, and
    /// every later `+= 1` on a restored counter stays far from overflow.
    static let countLimit: UInt64 = 1 << 56

    /// Reads `bytes[start..<end]`.
    init(_ bytes: [UInt8], from start: Int, to end: Int) {
        self.bytes = bytes
        self.position = start
        self.end = end
    }

    /// Bytes left to read.
    var remaining: Int { end - position }

    mutating func readByte() throws(MonitorSnapshotError) -> UInt8 {
        guard position < end else { throw .truncated }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func readVarint() throws(MonitorSnapshotError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try readByte()
            if shift == 63 && byte > 1 { throw .malformed("varint overflows 64 bits") }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 {
                if byte == 0 && shift > 0 { throw .malformed("varint not in its shortest form") }
                return value
            }
            shift += 7
        }
    }

    /// A count or length, at most ``countLimit`` and at most `limit`.
    mutating func readCount(atMost limit: Int = Int.max, _ what: String) throws(MonitorSnapshotError) -> Int {
        let value = try readVarint()
        guard value <= Self.countLimit, value <= UInt64(max(limit, 0)) else { throw .malformed("\(what) \(value) out of range") }
        return Int(value)
    }

    mutating func readSigned() throws(MonitorSnapshotError) -> Int64 {
        let value = try readVarint()
        return Int64(bitPattern: value >> 1) ^ -Int64(bitPattern: value & 1)
    }

    /// A length-prefixed string; its bytes must be valid UTF-8 (a repaired string would not be
    /// the identifier the snapshot holds).
    mutating func readString() throws(MonitorSnapshotError) -> String {
        let length = try readCount("string length")
        guard length <= remaining else { throw .truncated }
        let start = position
        position += length
        let string: String? = bytes.withUnsafeBytes { all in
            let slice = UnsafeRawBufferPointer(rebasing: all[start..<start + length])
            return UTF8Validator.isValid(slice) ? String(decoding: slice, as: UTF8.self) : nil
        }
        guard let string else { throw .malformed("string is not valid UTF-8") }
        return string
    }

    mutating func readTotal() throws(MonitorSnapshotError) -> MoneyTotal {
        let low = try readVarint()
        let high = try readVarint()
        // Totals stay below 2^126 (``MoneyTotal``).
        guard high < 1 << 62 else { throw .malformed("total out of range") }
        return MoneyTotal(high: high, low: low)
    }

    /// Throws unless every byte has been read.
    func expectEnd() throws(MonitorSnapshotError) {
        guard position == end else { throw .malformed("\(end - position) bytes after the last field") }
    }

    /// The snapshot checksum: SipHash-1-3 with a fixed key (the same on every instance, unlike
    /// ``KeyedHash/process``); it detects damage, it does not authenticate.
    static func checksum(of bytes: ArraySlice<UInt8>) -> UInt64 {
        bytes.withUnsafeBytes { KeyedHash.snapshotChecksum.hash($0).0 }
    }
}

extension KeyedHash {
    /// The fixed-key hash of snapshot checksums ("SYNDICAST-SNAPSH" as the key).
    static let snapshotChecksum = KeyedHash(key0: 0x5341_4349_444E_5953, key1: 0x4853_5041_4E53_2D54)
}
