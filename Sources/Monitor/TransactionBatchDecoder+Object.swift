/// The known fields of a transaction object.
enum TransactionField: UInt8 {
    case id = 1
    case investorId = 2
    case syndicateId = 4
    case amount = 8
    case timestamp = 16
    case unknown = 0

    var name: String {
        switch self {
        case .id: return "id"
        case .investorId: return "investorId"
        case .syndicateId: return "syndicateId"
        case .amount: return "amount"
        case .timestamp: return "timestamp"
        case .unknown: return ""
        }
    }

    /// The field of a key written plainly at `start` (the opening quote, e.g. `"amount"` with no
    /// escape), and the offset after its closing quote; nil for any other key, which is then
    /// scanned and classified the general way. The bytes matched include the closing quote, so a
    /// match is exactly that key. (A transaction has five keys and four values: scanning each key
    /// as a general string and then classifying it costs ~4% of the server's CPU under NDJSON
    /// ingest; `syndicast-microbench 3 decode` measures the decoder.)
    @inline(__always)
    static func plainKey(in buffer: UnsafeRawBufferPointer, at start: Int, end: Int) -> (TransactionField, Int)? {
        @inline(__always) func matches(_ literal: StaticString) -> Int? {
            let count = literal.utf8CodeUnitCount
            guard start + 1 + count <= end else { return nil }
            let base = literal.utf8Start
            for offset in 0..<count where buffer[start + 1 + offset] != base[offset] { return nil }
            return start + 1 + count
        }
        guard start + 1 < end, buffer[start] == UInt8(ascii: "\"") else { return nil }
        switch buffer[start + 1] {
        case UInt8(ascii: "i"):
            if let after = matches("investorId\"") { return (.investorId, after) }
            if let after = matches("id\"") { return (.id, after) }
        case UInt8(ascii: "s"):
            if let after = matches("syndicateId\"") { return (.syndicateId, after) }
        case UInt8(ascii: "a"):
            if let after = matches("amount\"") { return (.amount, after) }
        case UInt8(ascii: "t"):
            if let after = matches("timestamp\"") { return (.timestamp, after) }
        default: break
        }
        return nil
    }

    /// Classifies raw key bytes (escapes already decoded).
    static func classify(_ bytes: UnsafeRawBufferPointer) -> TransactionField {
        @inline(__always) func equals(_ literal: StaticString) -> Bool {
            let base = literal.utf8Start
            for offset in 0..<bytes.count where bytes[offset] != base[offset] { return false }
            return true
        }
        switch bytes.count {
        case 2: return equals("id") ? .id : .unknown
        case 6: return equals("amount") ? .amount : .unknown
        case 9: return equals("timestamp") ? .timestamp : .unknown
        case 10: return equals("investorId") ? .investorId : .unknown
        case 11: return equals("syndicateId") ? .syndicateId : .unknown
        default: return .unknown
        }
    }
}

extension TransactionBatchDecoder {
    /// Decodes one object at the cursor; field problems become details, syntax errors throw.
    /// `depth` is the nesting level of the object itself (0 at the top of a body or line).
    mutating func decodeObject(index: Int, depth: Int) throws(JSONSyntaxError) {
        guard depth < limits.maximumDepth else {
            throw scanner.error("nesting deeper than \(limits.maximumDepth) levels")
        }
        try scanner.expect(UInt8(ascii: "{"), "expected '{'")
        let problemsBefore = problemCount
        var present: UInt8 = 0
        var id: String?
        var investorId: KeyedIdentifier?
        var syndicateId: KeyedIdentifier?
        var amount: Money?
        var timestamp: Int64?
        let identifierHasher = self.identifierHasher
        scanner.skipWhitespace()
        if scanner.peek() == UInt8(ascii: "}") {
            scanner.index += 1
        } else {
            while true {
                scanner.skipWhitespace()
                let field: TransactionField
                if let (plain, after) = TransactionField.plainKey(
                    in: scanner.buffer, at: scanner.index, end: scanner.end)
                {
                    field = plain
                    scanner.index = after
                } else {
                    let key = try scanner.scanString()
                    if key.hasEscapes {
                        scanner.unescape(key)
                        field = scanner.scratch.withUnsafeBytes { TransactionField.classify($0) }
                    } else {
                        field = TransactionField.classify(
                            UnsafeRawBufferPointer(rebasing: scanner.buffer[key.start..<key.end]))
                    }
                }
                scanner.skipWhitespace()
                try scanner.expect(UInt8(ascii: ":"), "expected ':'")
                scanner.skipWhitespace()
                if field != .unknown, present & field.rawValue != 0 {
                    try scanner.skipValue(depth: depth + 1)
                    addDetail(index: index, field: field.name, reason: "appears more than once")
                } else {
                    present |= field.rawValue
                    switch field {
                    case .id:
                        id = try decodeIdentifier(index: index, field: field, depth: depth, nullable: true) {
                            String(decoding: $0, as: UTF8.self)
                        }
                    case .investorId:
                        investorId = try decodeIdentifier(index: index, field: field, depth: depth) {
                            KeyedIdentifier(utf8: $0, hasher: identifierHasher)
                        }
                    case .syndicateId:
                        syndicateId = try decodeIdentifier(index: index, field: field, depth: depth) {
                            KeyedIdentifier(utf8: $0, hasher: identifierHasher)
                        }
                    case .amount: amount = try decodeAmount(index: index, depth: depth)
                    case .timestamp: timestamp = try decodeTimestamp(index: index, depth: depth)
                    case .unknown: try scanner.skipValue(depth: depth + 1)
                    }
                }
                scanner.skipWhitespace()
                guard let next = scanner.peek() else { throw scanner.unexpected("expected ',' or '}'") }
                scanner.index += 1
                if next == UInt8(ascii: "}") { break }
                guard next == UInt8(ascii: ",") else {
                    scanner.index -= 1
                    throw scanner.unexpected("expected ',' or '}'")
                }
            }
        }
        let required =
            TransactionField.investorId.rawValue | TransactionField.syndicateId.rawValue
            | TransactionField.amount.rawValue
        if present & required != required {
            for field in [TransactionField.investorId, .syndicateId, .amount] where present & field.rawValue == 0 {
                addDetail(index: index, field: field.name, reason: "is required")
            }
        }
        if let timestamp, timestamp > latestTimestamp {
            addDetail(index: index, field: "timestamp", reason: limits.clockSkewReason)
        }
        if problemCount > problemsBefore {
            invalidElementCount += 1
            return
        }
        // Once any problem is known the batch fails: stop building values nobody will read.
        // `take()` moves the strings into the transaction: binding them with `let` copied each
        // (a retain) and released the variable's copy at the end of the scope.
        guard !hasProblems, let investorId = investorId.take(), let syndicateId = syndicateId.take(), let amount
        else { return }
        transactions.append(
            Transaction(
                id: id.take(), investor: investorId, syndicate: syndicateId, amount: amount, timestamp: timestamp ?? receivedAt))
    }

    /// `id`, `investorId`, `syndicateId`: a non-empty string of at most 128 UTF-8 bytes, made into
    /// a value by `make` from its unescaped bytes (a ``KeyedIdentifier`` hashes the same bytes).
    @inline(__always)
    private mutating func decodeIdentifier<Value>(
        index: Int, field: TransactionField, depth: Int, nullable: Bool = false,
        make: (UnsafeRawBufferPointer) -> Value
    ) throws(JSONSyntaxError) -> Value? {
        switch scanner.peek() {
        case UInt8(ascii: "\""):
            let token = try scanner.scanString()
            let reason: String?
            if token.hasEscapes {
                scanner.unescape(token)
                let hasControl = scanner.scratch.contains { $0 < 0x20 }
                reason = Self.identifierProblem(scanner.scratch.count, hasControl: hasControl)
            } else {
                reason = Self.identifierProblem(token.end - token.start, hasControl: false)
            }
            if let reason {
                addDetail(index: index, field: field.name, reason: reason)
                return nil
            }
            if hasProblems { return nil }
            if token.hasEscapes {  // `scratch` holds the unescaped bytes
                return scanner.scratch.withUnsafeBytes(make)
            }
            return make(UnsafeRawBufferPointer(rebasing: scanner.buffer[token.start..<token.end]))
        case UInt8(ascii: "n") where nullable:
            try scanner.scanLiteral("null")
            return nil
        default:
            try scanner.skipValue(depth: depth + 1)
            let reason = nullable ? "must be a string or null" : "must be a string"
            addDetail(index: index, field: field.name, reason: reason)
            return nil
        }
    }

    private static func identifierProblem(_ byteCount: Int, hasControl: Bool) -> String? {
        if byteCount == 0 { return "must not be empty" }
        if byteCount > Transaction.maximumIdentifierBytes {
            return "must be at most \(Transaction.maximumIdentifierBytes) bytes"
        }
        if hasControl { return "must not contain control characters" }
        return nil
    }

    /// `amount`: a JSON number or a decimal string, > 0, whole cents, at most the limit.
    private mutating func decodeAmount(index: Int, depth: Int) throws(JSONSyntaxError) -> Money? {
        let parsed: Result<Money, MoneyParseError>
        switch scanner.peek() {
        case UInt8(ascii: "\""):
            let token = try scanner.scanString()
            if token.hasEscapes {
                scanner.unescape(token)
                parsed = scanner.scratch.withUnsafeBytes { Money.parse($0, from: 0, to: $0.count) }
            } else {
                parsed = Money.parse(scanner.buffer, from: token.start, to: token.end)
            }
        case .some(let byte) where byte == UInt8(ascii: "-") || byte &- 0x30 < 10:
            let range = try scanner.scanNumber()
            parsed = Money.parse(scanner.buffer, from: range.lowerBound, to: range.upperBound)
        default:
            try scanner.skipValue(depth: depth + 1)
            addDetail(index: index, field: "amount", reason: "must be a number or a decimal string")
            return nil
        }
        switch parsed {
        case .success(let money) where money <= limits.maximumAmount: return money
        case .success, .failure(.tooLarge):
            addDetail(index: index, field: "amount", reason: "must be at most \(limits.maximumAmount)")
            return nil
        case .failure(let error):
            addDetail(index: index, field: "amount", reason: error.reason)
            return nil
        }
    }

    /// `timestamp`: RFC 3339 string, integer epoch milliseconds, or `null` (use `receivedAt`).
    private mutating func decodeTimestamp(index: Int, depth: Int) throws(JSONSyntaxError) -> Int64? {
        switch scanner.peek() {
        case UInt8(ascii: "\""):
            let token = try scanner.scanString()
            let parsed: Result<Int64, TimestampParseError>
            if token.hasEscapes {
                scanner.unescape(token)
                parsed = scanner.scratch.withUnsafeBytes { RFC3339Timestamp.parse($0, from: 0, to: $0.count) }
            } else {
                parsed = RFC3339Timestamp.parse(scanner.buffer, from: token.start, to: token.end)
            }
            switch parsed {
            case .success(let milliseconds): return milliseconds
            case .failure(let error):
                addDetail(index: index, field: "timestamp", reason: error.reason)
                return nil
            }
        case .some(let byte) where byte == UInt8(ascii: "-") || byte &- 0x30 < 10:
            let range = try scanner.scanNumber()
            guard let milliseconds = Self.integer(scanner.buffer, range) else {
                addDetail(index: index, field: "timestamp", reason: "must be an integer number of epoch milliseconds")
                return nil
            }
            guard milliseconds >= RFC3339Timestamp.minimumMilliseconds,
                milliseconds <= RFC3339Timestamp.maximumMilliseconds
            else {
                addDetail(index: index, field: "timestamp", reason: "must be between years 0000 and 9999")
                return nil
            }
            return milliseconds
        case UInt8(ascii: "n"):
            try scanner.scanLiteral("null")
            return nil
        default:
            try scanner.skipValue(depth: depth + 1)
            addDetail(
                index: index, field: "timestamp", reason: "must be an RFC 3339 string or epoch milliseconds")
            return nil
        }
    }

    /// A JSON integer (no fraction, no exponent) that fits in `Int64`, or `nil`.
    static func integer(_ buffer: UnsafeRawBufferPointer, _ range: Range<Int>) -> Int64? {
        var index = range.lowerBound
        let negative = buffer[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        guard index < range.upperBound else { return nil }
        if range.upperBound - index <= 18 {
            // At most 18 digits cannot overflow Int64: no checks per digit.
            var value: Int64 = 0
            while index < range.upperBound {
                let digit = buffer[index] &- 0x30
                guard digit < 10 else { return nil }
                value = value &* 10 &+ Int64(digit)
                index += 1
            }
            return negative ? -value : value
        }
        var value: Int64 = 0
        while index < range.upperBound {
            let digit = buffer[index] &- 0x30
            guard digit < 10 else { return nil }
            let (shifted, overflowShift) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflowAdd) = shifted.addingReportingOverflow(Int64(digit))
            guard !overflowShift, !overflowAdd else { return nil }
            value = sum
            index += 1
        }
        return negative ? -value : value
    }
}
