/// Reading ``BrokerSnapshot/encode()``'s bytes back (the layout is in BrokerSnapshot.swift).
extension BrokerSnapshot {
    /// Decodes ``encode()``'s bytes; anything else throws (never traps). Counts are checked
    /// against the bytes left before anything is reserved, so a damaged count cannot make it
    /// allocate more than the input's size.
    public init(decoding bytes: [UInt8]) throws(DecodingError) {
        // Magic, version, four counters, the two window counts and the checksum.
        let minimum = Self.magic.count + 1 + 4 + 2 + 8
        guard bytes.count >= minimum else {
            throw bytes.elementsEqual((Self.magic + [Self.formatVersion]).prefix(bytes.count)) ? .truncated : .notASnapshot
        }
        guard bytes[..<Self.magic.count].elementsEqual(Self.magic), bytes[Self.magic.count] == Self.formatVersion else {
            throw .notASnapshot
        }
        // withUnsafeBytes is not typed-throws; carry the result out instead.
        let result: Result<BrokerSnapshot, DecodingError> = bytes.withUnsafeBytes { raw in
            Result { () throws(DecodingError) in try Self.decodeFields(raw) }
        }
        self = try result.get()
    }

    /// The fields after the magic and version of `raw`, at least `minimum` bytes long.
    private static func decodeFields(_ raw: UnsafeRawBufferPointer) throws(DecodingError) -> BrokerSnapshot {
        let end = raw.count - 8
        let stored = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: end, as: UInt64.self))
        guard stored == checksum(UnsafeRawBufferPointer(rebasing: raw[..<end])) else { throw .damaged }
        var reader = Reader(bytes: raw, position: magic.count + 1, end: end)
        let seq = try reader.varint()
        let transactions = try reader.count()
        let amountThresholdAlerts = try reader.count()
        let syndicateSpikeAlerts = try reader.count()

        let idCount = try reader.count()
        guard idCount <= (end - reader.position) / idByteCount else { throw .truncated }
        var ids: [IdempotencyWindow.Id] = []
        ids.reserveCapacity(idCount)
        for _ in 0..<idCount {
            let high = reader.word()
            let low = reader.word()
            let fingerprint = Int(truncatingIfNeeded: reader.word())
            // All-zero marks an empty slot of the index's table; no digest is.
            guard high != 0 || low != 0 else { throw .damaged }
            ids.append(IdempotencyWindow.Id(high: high, low: low, fingerprint: fingerprint))
        }

        // Each batch is at least two bytes and one id.
        let batchCount = try reader.count()
        guard batchCount <= (end - reader.position) / 2 else { throw .truncated }
        guard batchCount <= idCount else { throw .damaged }
        var batches: [IdempotencyWindow.Batch] = []
        batches.reserveCapacity(batchCount)
        var covered = 0
        for _ in 0..<batchCount {
            let count = try reader.count()
            guard count >= 1, count <= idCount - covered else { throw .damaged }
            covered += count
            batches.append(IdempotencyWindow.Batch(count: count, time: try reader.varint()))
        }
        guard reader.position == end else { throw .damaged }
        return BrokerSnapshot(
            seq: seq, transactions: transactions, amountThresholdAlerts: amountThresholdAlerts,
            syndicateSpikeAlerts: syndicateSpikeAlerts, window: IdempotencyWindow(ids: ids, batches: batches))
    }

    /// Reads the fields between the version byte and the checksum.
    private struct Reader {
        let bytes: UnsafeRawBufferPointer
        var position: Int
        let end: Int

        /// An unsigned LEB128 varint in its shortest form.
        mutating func varint() throws(DecodingError) -> UInt64 {
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

        /// A varint that must fit an `Int` with room to spare (a count or counter).
        mutating func count() throws(DecodingError) -> Int {
            let value = try varint()
            guard value < 1 << 56 else { throw .damaged }
            return Int(value)
        }

        /// A `u64le`; the caller checked that eight bytes are left before `end`.
        @inline(__always)
        mutating func word() -> UInt64 {
            let value = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self))
            position += 8
            return value
        }
    }
}
