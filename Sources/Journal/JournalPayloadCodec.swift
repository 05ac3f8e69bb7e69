import Monitor

/// The compact binary encoding of one commit group: the `payload` of one journal row.
///
/// Layout (version 1), all integers unsigned LEB128 varints in their shortest form unless noted:
/// ```
/// payload      = version:u8(=1) entryCount entry*
/// entry        = 0x01 transactionCount transaction*        ; a POST /api/transactions batch
///              | 0x02 topic:string data:bytes               ; a POST /api/publish message
/// transaction  = flags:u8 (bit 0: id present; other bits 0) [id:string]
///                investorId:string syndicateId:string amountCents:zigzag timestampMs:zigzag
/// string       = length bytes[length]                      ; UTF-8, validated when decoding
/// bytes        = length bytes[length]
/// zigzag       = varint of (n << 1) ^ (n >> 63)             ; signed Int64, small magnitudes short
/// ```
/// Nothing may follow the last entry. The encoder sizes the output exactly before writing, so
/// encoding is one allocation and one pass; the decoder bounds-checks every read and turns any
/// malformed input into a ``JournalError`` (never a trap). The same codec can carry entries through
/// any other log (for example a Redis Stream) byte for byte.
public enum JournalPayloadCodec {
    /// The format version written as the first byte of every payload.
    public static let formatVersion: UInt8 = 1
    /// Tag of a transaction batch entry.
    static let transactionsTag: UInt8 = 0x01
    /// Tag of a published message entry.
    static let messageTag: UInt8 = 0x02
    /// Transaction flag: an `id` follows.
    static let identifierFlag: UInt8 = 0x01

    /// Encodes `entries` into one payload.
    public static func encode(_ entries: [JournalEntry]) -> [UInt8] {
        let size = encodedSize(of: entries)
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, initializedCount in
            guard let base = buffer.baseAddress else {
                initializedCount = 0
                return
            }
            var writer = PayloadWriter(position: base)
            writer.write(formatVersion)
            writer.writeVarint(UInt64(entries.count))
            for entry in entries {
                switch entry {
                case .transactions(let transactions):
                    writer.write(transactionsTag)
                    writer.writeVarint(UInt64(transactions.count))
                    for transaction in transactions {
                        writer.write(transaction)
                    }
                case .message(let topic, let data):
                    writer.write(messageTag)
                    writer.writeString(topic)
                    writer.writeVarint(UInt64(data.count))
                    writer.writeBytes(data)
                }
            }
            initializedCount = writer.position - base
            assert(initializedCount == size, "JournalPayloadCodec: size estimate and output disagree")
        }
    }

    /// The exact number of bytes ``encode(_:)`` produces for `entries`.
    public static func encodedSize(of entries: [JournalEntry]) -> Int {
        var size = 1 + varintSize(UInt64(entries.count))
        for entry in entries {
            switch entry {
            case .transactions(let transactions):
                size += 1 + varintSize(UInt64(transactions.count))
                for transaction in transactions {
                    size += encodedSize(of: transaction)
                }
            case .message(let topic, let data):
                size += 1 + stringSize(topic) + varintSize(UInt64(data.count)) + data.count
            }
        }
        return size
    }

    /// The bytes one transaction takes.
    @inline(__always)
    static func encodedSize(of transaction: Transaction) -> Int {
        var size = 1 + stringSize(transaction.investorId) + stringSize(transaction.syndicateId)
        if let identifier = transaction.id { size += stringSize(identifier) }
        size += varintSize(zigzag(transaction.amount.cents)) + varintSize(zigzag(transaction.timestamp))
        return size
    }

    /// The bytes a length-prefixed string takes.
    @inline(__always)
    static func stringSize(_ string: String) -> Int {
        let count = string.utf8.count
        return varintSize(UInt64(count)) + count
    }

    /// The bytes the LEB128 varint of `value` takes (1 to 10).
    @inline(__always)
    static func varintSize(_ value: UInt64) -> Int {
        let bits = 64 - (value | 1).leadingZeroBitCount
        return (bits + 6) / 7
    }

    /// Maps a signed value to an unsigned one whose varint is short when the magnitude is small.
    @inline(__always)
    static func zigzag(_ value: Int64) -> UInt64 {
        UInt64(bitPattern: (value << 1) ^ (value >> 63))
    }

    /// Inverts ``zigzag(_:)``.
    @inline(__always)
    static func unzigzag(_ value: UInt64) -> Int64 {
        Int64(bitPattern: (value >> 1) ^ (0 &- (value & 1)))
    }
}

/// Writes into a buffer that ``JournalPayloadCodec/encodedSize(of:)`` sized exactly.
struct PayloadWriter {
    /// Where the next byte goes.
    var position: UnsafeMutablePointer<UInt8>

    @inline(__always)
    mutating func write(_ byte: UInt8) {
        position.initialize(to: byte)
        position += 1
    }

    @inline(__always)
    mutating func writeVarint(_ value: UInt64) {
        var remaining = value
        while remaining >= 0x80 {
            write(UInt8(truncatingIfNeeded: remaining) | 0x80)
            remaining >>= 7
        }
        write(UInt8(truncatingIfNeeded: remaining))
    }

    @inline(__always)
    mutating func writeBytes(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        position.initialize(from: source, count: bytes.count)
        position += bytes.count
    }

    @inline(__always)
    mutating func writeBytes(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { writeBytes($0) }
    }

    @inline(__always)
    mutating func writeString(_ string: String) {
        string.withUTF8Bytes { utf8 in
            writeVarint(UInt64(utf8.count))
            writeBytes(utf8)
        }
    }

    @inline(__always)
    mutating func write(_ transaction: Transaction) {
        if let identifier = transaction.id {
            write(JournalPayloadCodec.identifierFlag)
            writeString(identifier)
        } else {
            write(0)
        }
        writeString(transaction.investorId)
        writeString(transaction.syndicateId)
        writeVarint(JournalPayloadCodec.zigzag(transaction.amount.cents))
        writeVarint(JournalPayloadCodec.zigzag(transaction.timestamp))
    }
}
