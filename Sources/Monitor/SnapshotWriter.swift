/// Appends the fields of a ``TransactionMonitor`` snapshot: unsigned LEB128 varints in their
/// shortest form, zigzag for signed values, length-prefixed UTF-8 strings (the integer coding of
/// the journal's payload, Sources/Journal/JournalPayloadCodec.swift).
struct SnapshotWriter {
    private(set) var bytes: [UInt8] = []

    /// Starts a buffer with room for about `capacity` bytes.
    init(capacity: Int) {
        bytes.reserveCapacity(max(capacity, 16))
    }

    @inline(__always)
    mutating func write(_ byte: UInt8) {
        bytes.append(byte)
    }

    @inline(__always)
    mutating func writeVarint(_ value: UInt64) {
        var remaining = value
        while remaining >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: remaining) | 0x80)
            remaining >>= 7
        }
        bytes.append(UInt8(truncatingIfNeeded: remaining))
    }

    /// A count, length or other non-negative `Int` (no monitor holds a negative one; it would
    /// be clamped to 0).
    @inline(__always)
    mutating func writeCount(_ value: Int) {
        writeVarint(UInt64(clamping: value))
    }

    /// A signed value, zigzag-coded so that small magnitudes are short.
    @inline(__always)
    mutating func writeSigned(_ value: Int64) {
        writeVarint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    mutating func writeString(_ string: String) {
        string.withUTF8Bytes { utf8 in
            writeCount(utf8.count)
            bytes.append(contentsOf: utf8)
        }
    }

    /// A 128-bit total: the low word, then the high word (almost always one zero byte).
    @inline(__always)
    mutating func writeTotal(_ total: MoneyTotal) {
        writeVarint(total.low)
        writeVarint(total.high)
    }

    /// Appends the checksum of everything written so far, little-endian.
    mutating func finish() {
        let checksum = SnapshotReader.checksum(of: bytes[...])
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: checksum >> UInt64(shift))) }
    }
}
