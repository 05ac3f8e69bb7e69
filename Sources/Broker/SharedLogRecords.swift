import Basics
import Monitor

/// Cluster mode's idempotency records (docs/CLUSTER.md "The idempotency window"): 24 bytes per
/// transaction, the id's 128-bit digest (high, low) and its content fingerprint's 64-bit digest,
/// each a little-endian `UInt64`, keyed with the cluster's key so that every instance computes the
/// same bytes; 24 zero bytes for a transaction without id. Every stream entry carries the records
/// of its applied requests (field `i`), and every instance's ``IdempotencyIndex`` is built from
/// them, in stream order: the window is a pure function of the stream.
public struct SharedLogRecords: Sendable {
    /// Bytes per record.
    public static let size = 24

    let hash: KeyedHash

    /// Records keyed with `key0`, `key1` (the cluster key's two halves).
    public init(key0: UInt64, key1: UInt64) {
        hash = KeyedHash(key0: key0, key1: key1)
    }

    /// Records keyed with the 32 lowercase hex characters of the cluster key (`{syndicast}:idkey`);
    /// nil if `hexKey` is not that.
    public init?(hexKey: String) {
        let bytes = Array(hexKey.utf8)
        guard bytes.count == 32, bytes.allSatisfy({ Self.hexValue($0) != nil }) else { return nil }
        func half(_ range: Range<Int>) -> UInt64 { bytes[range].reduce(0) { $0 << 4 | UInt64(Self.hexValue($1) ?? 0) } }
        self.init(key0: half(0..<16), key1: half(16..<32))
    }

    /// A new random key: 32 lowercase hex characters.
    public static func randomHexKey() -> String {
        HexDigits.randomWord() + HexDigits.randomWord()
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }

    /// Appends one record per transaction of `transactions` to `records`.
    public func append(_ transactions: [Transaction], to records: inout [UInt8]) {
        records.reserveCapacity(records.count + Self.size * transactions.count)
        var content: [UInt8] = []
        for transaction in transactions {
            guard let id = transaction.id else {
                records.append(contentsOf: repeatElement(0, count: Self.size))
                continue
            }
            let (high, low) = id.withUTF8Bytes { hash.hash128(utf8: $0) }
            let key = IdempotencyIndex.Key(high: high, low: low)
            content.removeAll(keepingCapacity: true)
            Self.appendContent(of: transaction, to: &content)
            let fingerprint = content.withUnsafeBytes { hash.hash($0).0 }
            withUnsafeBytes(of: key.high.littleEndian) { records.append(contentsOf: $0) }
            withUnsafeBytes(of: key.low.littleEndian) { records.append(contentsOf: $0) }
            withUnsafeBytes(of: fingerprint.littleEndian) { records.append(contentsOf: $0) }
        }
    }

    /// The records of `transactions`.
    public func records(of transactions: [Transaction]) -> [UInt8] {
        var records: [UInt8] = []
        append(transactions, to: &records)
        return records
    }

    /// The id digest and fingerprint of record `index` (its first byte at `24 × index`); nil for a
    /// zero record (no id). `records` must hold at least `24 × (index + 1)` bytes.
    @inline(__always)
    static func record(_ index: Int, in records: UnsafeRawBufferPointer) -> (key: IdempotencyIndex.Key, fingerprint: Int)? {
        let offset = index * size
        let high = UInt64(littleEndian: records.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        let low = UInt64(littleEndian: records.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self))
        guard high != 0 || low != 0 else { return nil }
        let fingerprint = UInt64(littleEndian: records.loadUnaligned(fromByteOffset: offset + 16, as: UInt64.self))
        return (IdempotencyIndex.Key(high: high, low: low), Int(bitPattern: UInt(fingerprint)))
    }

    /// What "the same content" means for a re-sent id, as bytes that are the same on every
    /// instance: `u32be(byte count) investorId u32be(byte count) syndicateId i64be(cents)`,
    /// unambiguous whatever bytes the ids hold (the timestamp is left out, as in single-node mode:
    /// a retry may be stamped anew).
    static func appendContent(of transaction: Transaction, to bytes: inout [UInt8]) {
        func appendBigEndian(_ value: UInt64, bytes count: Int) {
            for shift in stride(from: (count - 1) * 8, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> shift)) }
        }
        appendBigEndian(UInt64(transaction.investorId.utf8.count), bytes: 4)
        bytes += transaction.investorId.utf8
        appendBigEndian(UInt64(transaction.syndicateId.utf8.count), bytes: 4)
        bytes += transaction.syndicateId.utf8
        appendBigEndian(UInt64(bitPattern: transaction.amount.cents), bytes: 8)
    }
}
