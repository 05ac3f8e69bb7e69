import Monitor

/// The broker's part of a cluster snapshot (issue 15): what a restored ``MessageBroker`` needs
/// besides its ``TransactionMonitor`` (``TransactionMonitor/encodeSnapshot()``) so that the
/// entries after the snapshot get the same sequence numbers, refuse the same duplicates, and its
/// counters carry on.
///
/// Of the broker's stored properties, the events depend on `seq` alone (alert ids and the
/// rankings come from the monitor). `stats.transactions` and `counts`' alert counters are
/// carried so that `/api/stats` and `/metrics` continue from the stream's totals, as after a
/// journal replay. The idempotency window is carried because in cluster mode it is a function of
/// the stream order (count and log-time bounds): an instance started from the snapshot and the
/// stream after it must know the same ids as one that read the whole stream. Not included: the
/// history ring, the epoch (derived from Redis and the rules), and what describes this process
/// only (sinks, the journal pipeline, commit groups in flight, resume counts, the rate).
///
/// Layout (version 2), integers unsigned LEB128 varints in their shortest form unless marked:
///
///     "SYNB" version:u8(=2) seq transactions amountThresholdAlerts syndicateSpikeAlerts
///     idCount (high:u64le low:u64le fingerprint:u64le) × idCount
///     batchCount (count time) × batchCount
///     checksum:u64le
///
/// Ids oldest first: each id's 128-bit digest (never all-zero) and its content fingerprint (the
/// `Int`'s bit pattern); 24 bytes an id, so a window of 1M ids is ~24 MB. Each batch is `count`
/// (at least 1) consecutive ids, after the previous batch's, with log time `time` (ms); the batches
/// cover at most the ids (ids after the last batch have no time). The checksum is FNV-1a (64-bit)
/// of every byte before it. Version 1 (no window) is refused as `.notASnapshot`.
public struct BrokerSnapshot: Sendable, Hashable {
    /// Why bytes are not a broker snapshot.
    public enum DecodingError: Error, Sendable, Hashable {
        /// Not a broker snapshot, or a version this build does not read.
        case notASnapshot
        /// Shorter than its fields.
        case truncated
        /// The checksum does not match, a varint is not in its shortest form, a count or digest
        /// is out of range, or bytes follow the last field.
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
    /// The ids the broker remembers for idempotency, with their fingerprints and log times.
    public var window: IdempotencyWindow

    static let magic: [UInt8] = Array("SYNB".utf8)
    static let formatVersion: UInt8 = 2
    /// Bytes of one id: digest high and low halves and the fingerprint, each a `u64le`.
    static let idByteCount = 24

    /// Creates a snapshot from its fields.
    public init(
        seq: UInt64, transactions: Int, amountThresholdAlerts: Int, syndicateSpikeAlerts: Int,
        window: IdempotencyWindow = IdempotencyWindow()
    ) {
        self.seq = seq
        self.transactions = transactions
        self.amountThresholdAlerts = amountThresholdAlerts
        self.syndicateSpikeAlerts = syndicateSpikeAlerts
        self.window = window
    }

    /// The snapshot's bytes.
    public func encode() -> [UInt8] {
        let counters = [
            seq, UInt64(clamping: transactions), UInt64(clamping: amountThresholdAlerts), UInt64(clamping: syndicateSpikeAlerts),
        ]
        // Written into one buffer sized up front (varints at most 10 bytes), with no capacity check
        // per byte: a window of 1M ids is 24 MB, encoded in ~34 ms, ~22 ms of it the checksum
        // (`syndicast-microbench 5 brokersnapshot`).
        let bound =
            Self.magic.count + 1 + 10 * (counters.count + 2) + Self.idByteCount * window.ids.count + 20 * window.batches.count + 8
        return [UInt8](unsafeUninitializedCapacity: bound) { buffer, initialized in
            guard let base = buffer.baseAddress else { return }
            var writer = Writer(base: UnsafeMutableRawPointer(base))
            for byte in Self.magic { writer.byte(byte) }
            writer.byte(Self.formatVersion)
            for value in counters { writer.varint(value) }
            writer.varint(UInt64(window.ids.count))
            for id in window.ids {
                writer.word(id.high)
                writer.word(id.low)
                writer.word(UInt64(truncatingIfNeeded: id.fingerprint))
            }
            writer.varint(UInt64(window.batches.count))
            for batch in window.batches {
                writer.varint(UInt64(clamping: batch.count))
                writer.varint(batch.time)
            }
            writer.word(Self.checksum(UnsafeRawBufferPointer(start: base, count: writer.offset)))
            initialized = writer.offset
        }
    }

    /// FNV-1a, 64-bit: detects damage, does not authenticate.
    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return hash
    }

    /// Writes fields into memory the caller sized for them.
    private struct Writer {
        let base: UnsafeMutableRawPointer
        var offset = 0

        @inline(__always)
        mutating func byte(_ value: UInt8) {
            base.storeBytes(of: value, toByteOffset: offset, as: UInt8.self)
            offset += 1
        }

        @inline(__always)
        mutating func varint(_ value: UInt64) {
            var remaining = value
            while remaining >= 0x80 {
                byte(UInt8(truncatingIfNeeded: remaining) | 0x80)
                remaining >>= 7
            }
            byte(UInt8(truncatingIfNeeded: remaining))
        }

        @inline(__always)
        mutating func word(_ value: UInt64) {
            base.storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt64.self)
            offset += 8
        }
    }
}
