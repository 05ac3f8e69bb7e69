import Monitor

/// The compact binary encoding of one commit group: the `payload` of one journal row.
///
/// Layout (version 2, written since the payload-size round; version 1 is still read), all integers
/// unsigned LEB128 varints in their shortest form unless noted:
/// ```
/// payload      = version:u8(=2) entryCount entry*
/// entry        = 0x01 transactionCount transaction*        ; a POST /api/transactions batch
///              | 0x02 topic:string data:bytes               ; a POST /api/publish message
/// transaction  = flags:u8 (bit 0: id present; other bits 0) [id:sharedId]
///                investorId:string syndicateId:string amountCents:zigzag timestampDelta:zigzag
/// sharedId     = prefix suffix middle:string                ; see below
/// string       = length bytes[length]                      ; UTF-8, validated when decoding
/// bytes        = length bytes[length]
/// zigzag       = varint of (n << 1) ^ (n >> 63)             ; signed Int64, small magnitudes short
/// ```
/// Within one transactions entry:
/// - `timestampDelta` is the transaction's timestamp minus the previous transaction's (wrapping;
///   the first one's minus 0). A batch shares its receive time, so a delta is usually one byte
///   instead of six.
/// - An id is its first `prefix` bytes and last `suffix` bytes taken from the previous id in the
///   entry (none: empty), with `middle` between them. `prefix` is the longest common prefix of the
///   two ids' bytes, and `suffix` the longest common suffix of what the prefix leaves of both, so
///   the encoding stays canonical. Ids issued in sequence (`order-2026-000123`, the load
///   generator's `lt-<counter>-<time>`) shrink to a few bytes; unrelated ids (random UUIDs) cost two
///   bytes more than a plain string.
///
/// Version 1 is the same except that `id` is a plain `string` and `timestampDelta` is the
/// timestamp itself. Journal bytes per load-generator transaction: 47 in version 1, ~20 in
/// version 2; each byte is written twice (the log, then the database file) and fsynced.
///
/// Nothing may follow the last entry. The decoder bounds-checks every read, accepts only the one
/// encoding the encoder produces (varints in their shortest form, maximal shared ends), and turns
/// any malformed input into a ``JournalError`` (never a trap). The same codec can carry entries
/// through any other log (for example a Redis Stream) byte for byte.
public enum JournalPayloadCodec {
    /// The format version written as the first byte of every payload.
    public static let formatVersion: UInt8 = 2
    /// The first format, still decoded: plain ids and absolute timestamps.
    static let firstFormatVersion: UInt8 = 1
    /// Tag of a transaction batch entry.
    static let transactionsTag: UInt8 = 0x01
    /// Tag of a published message entry.
    static let messageTag: UInt8 = 0x02
    /// Transaction flag: an `id` follows.
    static let identifierFlag: UInt8 = 0x01

    /// Encodes `entries` into one payload.
    public static func encode(_ entries: [JournalEntry]) -> [UInt8] {
        // An upper bound, not the exact size: finding the shared ends twice per id costs more
        // than the slack of a buffer that lives for one append.
        encode(entries, capacity: capacityBound(of: entries))
    }

    /// Encodes `entries` into a buffer of `capacity` bytes. The writer checks the room left
    /// before every write, so a capacity that is too small (a bound that missed a field) costs
    /// another attempt with twice the room, never a write past the buffer. Internal so that the
    /// tests can pass a capacity that is too small.
    static func encode(_ entries: [JournalEntry], capacity initialCapacity: Int) -> [UInt8] {
        var capacity = max(initialCapacity, 1)
        while true {
            var fits = false
            let payload = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initializedCount in
                initializedCount = 0
                guard let base = buffer.baseAddress else { return }
                var writer = PayloadWriter(start: base, count: buffer.count)
                writer.write(formatVersion)
                writer.writeVarint(UInt64(entries.count))
                for entry in entries {
                    switch entry {
                    case .transactions(let transactions):
                        writer.write(transactionsTag)
                        writer.writeVarint(UInt64(transactions.count))
                        writer.write(TransactionBatch(transactions))
                    case .message(let topic, let data):
                        writer.write(messageTag)
                        writer.writeString(topic)
                        writer.writeVarint(UInt64(data.count))
                        writer.writeBytes(data)
                    }
                }
                fits = !writer.overflowed
                if fits { initializedCount = writer.position - base }
            }
            if fits { return payload }
            capacity = capacity &* 2
        }
    }

    /// At least the bytes ``encode(_:)`` produces for `entries`: every id as if it shared
    /// nothing, every timestamp delta as ten bytes.
    static func capacityBound(of entries: [JournalEntry]) -> Int {
        var size = 1 + varintSize(UInt64(entries.count))
        for entry in entries {
            switch entry {
            case .transactions(let transactions):
                size += 1 + varintSize(UInt64(transactions.count))
                // Read in place (see `TransactionBatch`).
                TransactionBatch(transactions).forEach { _, transaction in
                    let counts = transaction.identifierByteCounts
                    size += 12 + stringSize(byteCount: counts.investorId) + stringSize(byteCount: counts.syndicateId)
                    size += varintSize(zigzag(transaction.amount.cents))
                    if transaction.hasIdentifier { size += 2 + 3 * stringSize(byteCount: counts.id) }
                }
            case .message(let topic, let data):
                size += 1 + stringSize(topic) + varintSize(UInt64(data.count)) + data.count
            }
        }
        return size
    }

    /// The exact number of bytes ``encode(_:)`` produces for `entries`, walked independently of
    /// the writer: the tests and the fuzz target check the encoder against it (``encode(_:)``
    /// itself sizes its buffer with `capacityBound`, and its writer checks every write).
    static func encodedSize(of entries: [JournalEntry]) -> Int {
        var size = 1 + varintSize(UInt64(entries.count))
        for entry in entries {
            switch entry {
            case .transactions(let transactions):
                size += 1 + varintSize(UInt64(transactions.count))
                var previousIdentifier: String?
                var previousTimestamp: Int64 = 0
                for transaction in transactions {
                    size += 1 + stringSize(transaction.investorId) + stringSize(transaction.syndicateId)
                    size += varintSize(zigzag(transaction.amount.cents))
                    size += varintSize(zigzag(transaction.timestamp &- previousTimestamp))
                    previousTimestamp = transaction.timestamp
                    guard let identifier = transaction.id else { continue }
                    size += sharedIdentifierSize(identifier, after: previousIdentifier)
                    previousIdentifier = identifier
                }
            case .message(let topic, let data):
                size += 1 + stringSize(topic) + varintSize(UInt64(data.count)) + data.count
            }
        }
        return size
    }

    /// The bytes of `identifier` coded against `previous`.
    static func sharedIdentifierSize(_ identifier: String, after previous: String?) -> Int {
        identifier.withUTF8Bytes { current in
            let (prefix, suffix) = (previous ?? "").withUTF8Bytes { sharedEnds(of: $0, and: current) }
            let middle = current.count - prefix - suffix
            return varintSize(UInt64(prefix)) + varintSize(UInt64(suffix)) + varintSize(UInt64(middle)) + middle
        }
    }

    /// The longest common prefix of `previous` and `current`, and the longest common suffix of
    /// what the prefix leaves of both (so that the two never overlap in either).
    @inline(__always)
    static func sharedEnds(
        of previous: UnsafeBufferPointer<UInt8>, and current: UnsafeBufferPointer<UInt8>
    ) -> (prefix: Int, suffix: Int) {
        let limit = min(previous.count, current.count)
        guard limit > 0, let old = previous.baseAddress, let new = current.baseAddress else { return (0, 0) }
        var prefix = 0
        // Eight bytes at a time: the first differing byte is the lowest set byte of the XOR.
        while prefix + 8 <= limit {
            let difference =
                UInt64(littleEndian: UnsafeRawPointer(old + prefix).loadUnaligned(as: UInt64.self))
                ^ UInt64(littleEndian: UnsafeRawPointer(new + prefix).loadUnaligned(as: UInt64.self))
            if difference != 0 {
                prefix += difference.trailingZeroBitCount >> 3
                return (prefix, sharedSuffix(old, previous.count, new, current.count, room: limit - prefix))
            }
            prefix += 8
        }
        while prefix < limit && old[prefix] == new[prefix] { prefix += 1 }
        return (prefix, sharedSuffix(old, previous.count, new, current.count, room: limit - prefix))
    }

    /// The longest common suffix of two byte strings, at most `room` bytes.
    @inline(__always)
    static func sharedSuffix(
        _ old: UnsafePointer<UInt8>, _ oldCount: Int, _ new: UnsafePointer<UInt8>, _ newCount: Int, room: Int
    ) -> Int {
        var suffix = 0
        // Eight bytes at a time from the end: the last differing byte is the highest set byte.
        while suffix + 8 <= room {
            let difference =
                UInt64(littleEndian: UnsafeRawPointer(old + oldCount - suffix - 8).loadUnaligned(as: UInt64.self))
                ^ UInt64(littleEndian: UnsafeRawPointer(new + newCount - suffix - 8).loadUnaligned(as: UInt64.self))
            if difference != 0 { return suffix + difference.leadingZeroBitCount >> 3 }
            suffix += 8
        }
        while suffix < room && old[oldCount - suffix - 1] == new[newCount - suffix - 1] { suffix += 1 }
        return suffix
    }

    /// The bytes a length-prefixed string takes.
    @inline(__always)
    static func stringSize(_ string: String) -> Int {
        stringSize(byteCount: string.utf8.count)
    }

    /// The bytes a length-prefixed string of `byteCount` UTF-8 bytes takes.
    @inline(__always)
    static func stringSize(byteCount: Int) -> Int {
        varintSize(UInt64(byteCount)) + byteCount
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

/// Writes into a buffer of fixed size, checking the room left before every write.
///
/// A write that does not fit writes nothing and sets `overflowed`; the caller then discards the
/// buffer (see ``JournalPayloadCodec/encode(_:capacity:)``). The check is one comparison per
/// write: `syndicast-microbench 9 journal` (1,000-transaction and single-transaction entries)
/// measures it within the run-to-run noise of the unchecked writer.
struct PayloadWriter {
    /// Where the next byte goes.
    private(set) var position: UnsafeMutablePointer<UInt8>
    /// One past the last byte of the buffer.
    private let end: UnsafeMutablePointer<UInt8>
    /// Set when a write did not fit: the buffer's content is then incomplete.
    private(set) var overflowed = false

    init(start: UnsafeMutablePointer<UInt8>, count: Int) {
        position = start
        end = start + count
    }

    @inline(__always)
    mutating func write(_ byte: UInt8) {
        guard _fastPath(position < end) else {
            overflowed = true
            return
        }
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
        guard _fastPath(end - position >= bytes.count) else {
            overflowed = true
            return
        }
        position.initialize(from: source, count: bytes.count)
        position += bytes.count
    }

    @inline(__always)
    mutating func writeBytes(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { writeBytes($0) }
    }

    @inline(__always)
    mutating func writeString(_ string: String) {
        string.withUTF8Bytes { writeLengthPrefixed($0) }
    }

    /// Writes UTF-8 bytes as a length-prefixed string.
    @inline(__always)
    mutating func writeLengthPrefixed(_ utf8: UnsafeBufferPointer<UInt8>) {
        writeVarint(UInt64(utf8.count))
        writeBytes(utf8)
    }

    /// Writes one entry's transactions: ids against the previous id, timestamps as deltas.
    ///
    /// The transactions are read in place (``TransactionBatch``), and the previous id is
    /// remembered as the transaction holding it: keeping it in a variable retained and released
    /// its string, whose reference count the decoding event loop wrote on the other core (see
    /// ``TransactionBatch`` for the measurement).
    mutating func write(_ batch: TransactionBatch) {
        var previousWithIdentifier: TransactionBatch.Fields?
        var previousTimestamp: Int64 = 0
        batch.forEach { _, transaction in
            let hasIdentifier =
                transaction.withIdentifierUTF8 { current -> Bool in
                    write(JournalPayloadCodec.identifierFlag)
                    // The first id of an entry shares nothing.
                    let shared = previousWithIdentifier.flatMap {
                        $0.withIdentifierUTF8 { JournalPayloadCodec.sharedEnds(of: $0, and: current) }
                    }
                    writeIdentifier(current, sharing: shared ?? (0, 0))
                    return true
                } ?? false
            if hasIdentifier {
                previousWithIdentifier = transaction
            } else {
                write(0)
            }
            transaction.withInvestorUTF8 { writeLengthPrefixed($0) }
            transaction.withSyndicateUTF8 { writeLengthPrefixed($0) }
            writeVarint(JournalPayloadCodec.zigzag(transaction.amount.cents))
            writeVarint(JournalPayloadCodec.zigzag(transaction.timestamp &- previousTimestamp))
            previousTimestamp = transaction.timestamp
        }
    }

    /// Writes an id's UTF-8 as the lengths of the ends it shares and the bytes between them.
    @inline(__always)
    mutating func writeIdentifier(_ current: UnsafeBufferPointer<UInt8>, sharing shared: (prefix: Int, suffix: Int)) {
        writeVarint(UInt64(shared.prefix))
        writeVarint(UInt64(shared.suffix))
        writeVarint(UInt64(current.count - shared.prefix - shared.suffix))
        writeBytes(UnsafeBufferPointer(rebasing: current[shared.prefix..<(current.count - shared.suffix)]))
    }
}
