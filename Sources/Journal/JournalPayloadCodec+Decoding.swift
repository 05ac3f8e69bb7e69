import Monitor

extension JournalPayloadCodec {
    /// Decodes a payload written by ``encode(_:)``.
    ///
    /// Every read is bounds-checked; a truncated, padded or otherwise damaged payload throws a
    /// ``JournalError`` saying what was being read at which byte offset.
    public static func decode(_ payload: UnsafeRawBufferPointer) throws(JournalError) -> [JournalEntry] {
        var reader = PayloadReader(bytes: payload)
        let version = try reader.byte("format version")
        guard version == formatVersion || version == firstFormatVersion else {
            throw JournalError(
                "payload format version \(version) is not supported (expected \(firstFormatVersion) or \(formatVersion))")
        }
        // Every entry takes at least one byte, so a count above the bytes left is damage.
        let entryCount = try reader.count("entry count", minimumBytesEach: 1)
        var entries: [JournalEntry] = []
        entries.reserveCapacity(entryCount)
        for _ in 0..<entryCount {
            let tagOffset = reader.offset
            switch try reader.byte("entry tag") {
            case transactionsTag:
                // flags, two string lengths and two varints: at least five bytes a transaction.
                let count = try reader.count("transaction count", minimumBytesEach: 5)
                var transactions: [Transaction] = []
                transactions.reserveCapacity(count)
                if version == firstFormatVersion {
                    for _ in 0..<count {
                        transactions.append(try reader.transaction())
                    }
                } else {
                    var context = PayloadReader.SharedContext()
                    for _ in 0..<count {
                        transactions.append(try reader.transaction(after: &context))
                    }
                }
                entries.append(.transactions(transactions))
            case messageTag:
                let topic = try reader.string("message topic")
                let data = try reader.bytes("message data")
                entries.append(.message(topic: topic, data: data))
            case let tag:
                throw JournalError("payload damaged at byte \(tagOffset): unknown entry tag \(tag)")
            }
        }
        guard reader.offset == payload.count else {
            throw JournalError("payload damaged: \(payload.count - reader.offset) bytes after the last entry")
        }
        return entries
    }

    /// Decodes a payload held in an array.
    public static func decode(_ payload: [UInt8]) throws(JournalError) -> [JournalEntry] {
        // withUnsafeBytes is not typed-throws; carry the result out instead.
        let result: Result<[JournalEntry], JournalError> = payload.withUnsafeBytes { bytes in
            do throws(JournalError) {
                return .success(try decode(bytes))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}

/// A bounds-checked cursor over a payload.
struct PayloadReader {
    /// The whole payload.
    let bytes: UnsafeRawBufferPointer
    /// The next byte to read.
    var offset = 0

    /// Bytes not yet read.
    var remaining: Int { bytes.count - offset }

    func damaged(_ what: StaticString, _ problem: String, at position: Int) -> JournalError {
        JournalError("payload damaged at byte \(position): \(problem) reading \(what)")
    }

    @inline(__always)
    mutating func byte(_ what: StaticString) throws(JournalError) -> UInt8 {
        guard offset < bytes.count else { throw damaged(what, "truncated", at: offset) }
        let value = bytes[offset]
        offset += 1
        return value
    }

    /// Reads an unsigned LEB128 varint in its shortest form, at most ten bytes, that fits in 64 bits.
    @inline(__always)
    mutating func varint(_ what: StaticString) throws(JournalError) -> UInt64 {
        let start = offset
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < bytes.count else { throw damaged(what, "truncated", at: offset) }
            let byte = bytes[offset]
            offset += 1
            if shift == 63 && byte > 1 {
                throw damaged(what, "varint overflows 64 bits", at: start)
            }
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 {
                // A zero final byte after the first adds nothing: only the shortest form is valid,
                // so every payload has exactly one encoding.
                if byte == 0 && shift > 0 { throw damaged(what, "varint not in its shortest form", at: start) }
                return value
            }
            shift += 7
            if shift > 63 { throw damaged(what, "varint longer than ten bytes", at: start) }
        }
    }

    /// Reads a count of items that take at least `minimumBytesEach` bytes each.
    @inline(__always)
    mutating func count(_ what: StaticString, minimumBytesEach: Int) throws(JournalError) -> Int {
        let start = offset
        let value = try varint(what)
        guard value <= UInt64(remaining / minimumBytesEach) else {
            throw damaged(what, "count \(value) exceeds the \(remaining) bytes left", at: start)
        }
        return Int(value)
    }

    /// Reads a length prefix and checks that many bytes follow.
    @inline(__always)
    mutating func length(_ what: StaticString) throws(JournalError) -> Int {
        let start = offset
        let value = try varint(what)
        guard value <= UInt64(remaining) else {
            throw damaged(what, "length \(value) exceeds the \(remaining) bytes left", at: start)
        }
        return Int(value)
    }

    /// Reads a length-prefixed string, rejecting invalid UTF-8.
    @inline(__always)
    mutating func string(_ what: StaticString) throws(JournalError) -> String {
        let start = offset
        let count = try length(what)
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
        offset += count
        // ASCII (the usual identifier) is valid UTF-8 as it stands: skip the general validator.
        if Self.isASCII(slice) {
            return String(decoding: slice, as: UTF8.self)
        }
        guard let string = String(validating: slice, as: UTF8.self) else {
            throw damaged(what, "invalid UTF-8", at: start)
        }
        return string
    }

    /// Whether every byte is below 0x80, checked eight bytes at a time.
    @inline(__always)
    static func isASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var index = 0
        var accumulated: UInt64 = 0
        while index + 8 <= bytes.count {
            accumulated |= bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            index += 8
        }
        while index < bytes.count {
            accumulated |= UInt64(bytes[index])
            index += 1
        }
        return accumulated & 0x8080_8080_8080_8080 == 0
    }

    /// Reads length-prefixed raw bytes.
    mutating func bytes(_ what: StaticString) throws(JournalError) -> [UInt8] {
        let count = try length(what)
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
        offset += count
        return [UInt8](slice)
    }

    /// Reads a transaction's flags byte: whether an id follows.
    @inline(__always)
    mutating func identifierFlag() throws(JournalError) -> Bool {
        let flagsOffset = offset
        let flags = try byte("transaction flags")
        guard flags & ~JournalPayloadCodec.identifierFlag == 0 else {
            throw damaged("transaction flags", "unknown flags \(flags)", at: flagsOffset)
        }
        return flags == JournalPayloadCodec.identifierFlag
    }

    /// What a version-2 transaction is coded against: the previous id and timestamp of its entry.
    struct SharedContext {
        /// The previous id's bytes (empty before the first id).
        var identifier: [UInt8] = []
        /// Scratch for the id being decoded (swapped with `identifier`, so neither reallocates).
        var scratch: [UInt8] = []
        var timestamp: Int64 = 0
    }

    /// Reads one version-2 transaction, coded against `context`, and advances it.
    @inline(__always)
    mutating func transaction(after context: inout SharedContext) throws(JournalError) -> Transaction {
        var identifier: String?
        if try identifierFlag() { identifier = try sharedIdentifier(after: &context) }
        let investorId = try string("investorId")
        let syndicateId = try string("syndicateId")
        let cents = JournalPayloadCodec.unzigzag(try varint("amount"))
        let timestamp = context.timestamp &+ JournalPayloadCodec.unzigzag(try varint("timestamp delta"))
        context.timestamp = timestamp
        return Transaction(
            id: identifier, investorId: investorId, syndicateId: syndicateId,
            amount: Money(cents: cents), timestamp: timestamp
        )
    }

    /// Reads an id coded as the ends it shares with the previous one; rejects ends that overrun
    /// the previous id or are not the longest possible (the encoding is canonical).
    mutating func sharedIdentifier(after context: inout SharedContext) throws(JournalError) -> String {
        let start = offset
        let prefix = try varint("id prefix")
        let suffix = try varint("id suffix")
        let previousCount = context.identifier.count
        guard prefix <= UInt64(previousCount), suffix <= UInt64(previousCount) - prefix else {
            throw damaged("transaction id", "shared ends \(prefix) + \(suffix) exceed the previous id", at: start)
        }
        let middleCount = try length("transaction id")
        let middle = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + middleCount)])
        offset += middleCount
        let (head, tail) = (Int(prefix), Int(suffix))
        context.scratch.removeAll(keepingCapacity: true)
        context.scratch.append(contentsOf: context.identifier[0..<head])
        context.scratch.append(contentsOf: middle)
        context.scratch.append(contentsOf: context.identifier[(previousCount - tail)...])
        let shared = context.identifier.withUnsafeBufferPointer { old in
            context.scratch.withUnsafeBufferPointer { JournalPayloadCodec.sharedEnds(of: old, and: $0) }
        }
        guard shared == (head, tail) else {
            throw damaged("transaction id", "shared ends \(prefix) + \(suffix) are not the longest", at: start)
        }
        let decoded = context.scratch.withUnsafeBytes { identifier -> String? in
            Self.isASCII(identifier)
                ? String(decoding: identifier, as: UTF8.self) : String(validating: identifier, as: UTF8.self)
        }
        guard let string = decoded else { throw damaged("transaction id", "invalid UTF-8", at: start) }
        swap(&context.identifier, &context.scratch)
        return string
    }

    /// Reads one version-1 transaction.
    @inline(__always)
    mutating func transaction() throws(JournalError) -> Transaction {
        var identifier: String?
        if try identifierFlag() { identifier = try string("transaction id") }
        let investorId = try string("investorId")
        let syndicateId = try string("syndicateId")
        let cents = JournalPayloadCodec.unzigzag(try varint("amount"))
        let timestamp = JournalPayloadCodec.unzigzag(try varint("timestamp"))
        return Transaction(
            id: identifier, investorId: investorId, syndicateId: syndicateId,
            amount: Money(cents: cents), timestamp: timestamp
        )
    }
}
