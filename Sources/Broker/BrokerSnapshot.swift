import Monitor

/// The broker's part of a cluster snapshot (issue 15): what a restored ``MessageBroker`` needs
/// besides its ``TransactionMonitor`` (``TransactionMonitor/encodeSnapshot()``) so that the
/// entries after the snapshot get the same sequence numbers, and its counters carry on.
///
/// Of the broker's stored properties, the events depend on `seq` alone (alert ids and the
/// rankings come from the monitor). `stats.transactions` and `counts`' alert counters are
/// carried so that `/api/stats` and `/metrics` continue from the stream's totals, as after a
/// journal replay. Not included: the history ring and the idempotency index (cluster mode keeps
/// those in Redis), the epoch (derived from Redis and the rules), and what describes this process
/// only (sinks, the journal pipeline, commit groups in flight, resume counts, the rate).
///
/// Layout: `"SYNB" version:u8(=1) seq transactions amountThresholdAlerts syndicateSpikeAlerts
/// checksum:u64le`, integers unsigned LEB128 varints in their shortest form, the checksum FNV-1a
/// (64-bit) of every byte before it.
public struct BrokerSnapshot: Sendable, Hashable {
    /// Why bytes are not a broker snapshot.
    public enum DecodingError: Error, Sendable, Hashable {
        /// Not a broker snapshot, or a version this build does not read.
        case notASnapshot
        /// Shorter than its fields.
        case truncated
        /// The checksum does not match, a varint is not in its shortest form, or bytes follow the last field.
        case damaged
    }

    /// The sequence number of the last event the snapshot's state produced.
    public var seq: UInt64
    /// Transactions applied (`/api/stats`).
    public var transactions: Int
    /// Alerts raised by the amount rule (`/metrics`).
    public var amountThresholdAlerts: Int
    /// Alerts raised by the spike rule (`/metrics`).
    public var syndicateSpikeAlerts: Int

    static let magic: [UInt8] = Array("SYNB".utf8)
    static let formatVersion: UInt8 = 1

    /// Creates a snapshot from its fields.
    public init(seq: UInt64, transactions: Int, amountThresholdAlerts: Int, syndicateSpikeAlerts: Int) {
        self.seq = seq
        self.transactions = transactions
        self.amountThresholdAlerts = amountThresholdAlerts
        self.syndicateSpikeAlerts = syndicateSpikeAlerts
    }

    /// The snapshot's bytes.
    public func encode() -> [UInt8] {
        var bytes = Self.magic + [Self.formatVersion]
        for value in [seq, UInt64(clamping: transactions), UInt64(clamping: amountThresholdAlerts), UInt64(clamping: syndicateSpikeAlerts)]
        {
            var remaining = value
            while remaining >= 0x80 {
                bytes.append(UInt8(truncatingIfNeeded: remaining) | 0x80)
                remaining >>= 7
            }
            bytes.append(UInt8(truncatingIfNeeded: remaining))
        }
        let checksum = Self.checksum(bytes[...])
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: checksum >> UInt64(shift))) }
        return bytes
    }

    /// Decodes ``encode()``'s bytes; anything else throws (never traps).
    public init(decoding bytes: [UInt8]) throws(DecodingError) {
        guard bytes.count >= Self.magic.count + 1 + 4 + 8 else {
            throw bytes.elementsEqual((Self.magic + [Self.formatVersion]).prefix(bytes.count)) ? .truncated : .notASnapshot
        }
        guard bytes[..<Self.magic.count].elementsEqual(Self.magic), bytes[Self.magic.count] == Self.formatVersion else {
            throw .notASnapshot
        }
        let end = bytes.count - 8
        var stored: UInt64 = 0
        for index in 0..<8 { stored |= UInt64(bytes[end + index]) << UInt64(8 * index) }
        guard stored == Self.checksum(bytes[..<end]) else { throw .damaged }
        var position = Self.magic.count + 1
        func next() throws(DecodingError) -> UInt64 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard position < end else { throw .truncated }
                let byte = bytes[position]
                position += 1
                guard shift < 63 || byte <= 1 else { throw .damaged }
                value |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 {
                    guard byte != 0 || shift == 0 else { throw .damaged }
                    return value
                }
                shift += 7
            }
        }
        func count() throws(DecodingError) -> Int {
            let value = try next()
            guard value < 1 << 56 else { throw .damaged }
            return Int(value)
        }
        seq = try next()
        transactions = try count()
        amountThresholdAlerts = try count()
        syndicateSpikeAlerts = try count()
        guard position == end else { throw .damaged }
    }

    /// FNV-1a, 64-bit: detects damage, does not authenticate.
    static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return hash
    }
}

extension MessageBroker {
    /// The broker's part of a snapshot, taken together with ``state``'s
    /// ``TransactionMonitor/encodeSnapshot()`` (on the broker, so that both see the same entries).
    public func snapshot() -> BrokerSnapshot {
        BrokerSnapshot(
            seq: seq, transactions: stats.transactions, amountThresholdAlerts: counts.amountThresholdAlerts,
            syndicateSpikeAlerts: counts.syndicateSpikeAlerts)
    }

    /// Continues from `snapshot` on a broker created with the monitor restored from the same
    /// snapshot, before any entry is applied: the next event gets `snapshot.seq + 1`. The restored
    /// transactions count as replayed (not in the first tick's rate).
    public func restore(_ snapshot: BrokerSnapshot) {
        seq = snapshot.seq
        stats.transactions = snapshot.transactions
        stats.replayed = snapshot.transactions
        counts.amountThresholdAlerts = snapshot.amountThresholdAlerts
        counts.syndicateSpikeAlerts = snapshot.syndicateSpikeAlerts
    }
}
