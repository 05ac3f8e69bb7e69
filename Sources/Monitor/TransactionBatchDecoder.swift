/// The mutable state of one ``TransactionDecoder/decode(_:format:receivedAt:)-(UnsafeRawBufferPointer,_,_)`` call.
struct TransactionBatchDecoder {
    var scanner: JSONScanner
    let limits: TransactionDecoder.Limits
    let receivedAt: Int64
    /// The latest event time accepted (``TransactionDecoder/Limits/latestTimestamp(receivedAt:)``).
    let latestTimestamp: Int64
    /// Valid transactions so far; no longer filled once any problem was found.
    var transactions: [Transaction] = []
    /// The first ``TransactionDecoder/Limits/maximumDetails`` problems.
    var details: [TransactionValidationError.Detail] = []
    /// All problems, including those not kept in `details`.
    var problemCount = 0
    /// Elements (or lines) that are not valid JSON.
    var syntaxErrorCount = 0
    /// Elements with at least one field problem.
    var invalidElementCount = 0
    /// Elements seen (blank NDJSON lines excluded).
    var elementCount = 0
    var tooManyTransactions = false
    /// The NDJSON line being decoded, for details.
    var line: Int?
    /// The identifier keys' hash, read once per body (see ``KeyedIdentifier/Hasher``).
    let identifierHasher = KeyedIdentifier.Hasher()

    init(body: UnsafeRawBufferPointer, limits: TransactionDecoder.Limits, receivedAt: Int64) {
        self.scanner = JSONScanner(buffer: body, start: 0, end: body.count, maximumDepth: limits.maximumDepth)
        self.limits = limits
        self.receivedAt = receivedAt
        self.latestTimestamp = limits.latestTimestamp(receivedAt: receivedAt)
        // Room for the transactions of a body of small objects (~100 bytes each, as most are),
        // so that the array is not regrown and copied ten times for a batch of 1,000.
        transactions.reserveCapacity(min(body.count / 96, limits.maximumTransactions) + 1)
    }

    var hasProblems: Bool { problemCount > 0 }

    mutating func addDetail(index: Int, field: String, reason: String) {
        problemCount += 1
        if details.count < limits.maximumDetails {
            details.append(TransactionValidationError.Detail(index: index, line: line, field: field, reason: reason))
        }
    }

    mutating func addSyntaxError(index: Int, _ error: JSONSyntaxError) {
        syntaxErrorCount += 1
        addDetail(index: index, field: "", reason: "\(error.reason) at byte \(error.offset)")
    }

    /// Counts a new element; false (and marks the batch too large) past the limit.
    mutating func beginElement() -> Bool {
        elementCount += 1
        guard elementCount <= limits.maximumTransactions else {
            tooManyTransactions = true
            return false
        }
        return true
    }

    /// RFC 8259 §8.1: parsers "MAY ignore the presence of a byte order mark".
    mutating func skipByteOrderMark() {
        let buffer = scanner.buffer
        if buffer.count >= 3, buffer[0] == 0xEF, buffer[1] == 0xBB, buffer[2] == 0xBF { scanner.index = 3 }
    }

    /// A body that is one object or an array of objects.
    mutating func decodeJSON() {
        skipByteOrderMark()
        do throws(JSONSyntaxError) {
            scanner.skipWhitespace()
            guard let first = scanner.peek() else {
                throw scanner.error("empty body, expected a JSON object or array")
            }
            if first == UInt8(ascii: "[") {
                try decodeArray()
            } else if first == UInt8(ascii: "{") {
                _ = beginElement()
                try decodeObject(index: 0, depth: 0)
            } else {
                throw scanner.unexpected("expected a JSON object or array")
            }
            scanner.skipWhitespace()
            guard scanner.atEnd else { throw scanner.unexpected("expected the end of the body") }
        } catch {
            addSyntaxError(index: max(elementCount - 1, 0), error)
        }
    }

    private mutating func decodeArray() throws(JSONSyntaxError) {
        scanner.index += 1
        scanner.skipWhitespace()
        if scanner.peek() == UInt8(ascii: "]") {
            scanner.index += 1
            return
        }
        while true {
            guard beginElement() else { return }
            let index = elementCount - 1
            scanner.skipWhitespace()
            if scanner.peek() == UInt8(ascii: "{") {
                try decodeObject(index: index, depth: 1)
            } else {
                try scanner.skipValue(depth: 1)
                invalidElementCount += 1
                addDetail(index: index, field: "", reason: "must be a JSON object")
            }
            scanner.skipWhitespace()
            guard let next = scanner.peek() else { throw scanner.unexpected("expected ',' or ']'") }
            scanner.index += 1
            if next == UInt8(ascii: "]") { return }
            guard next == UInt8(ascii: ",") else {
                scanner.index -= 1
                throw scanner.unexpected("expected ',' or ']'")
            }
        }
    }

    /// A body of newline-delimited objects.
    mutating func decodeNDJSON() {
        skipByteOrderMark()
        let bodyEnd = scanner.buffer.count
        var lineStart = scanner.index
        var lineNumber = 0
        while lineStart < bodyEnd {
            lineNumber += 1
            let lineEnd = Self.nextNewline(in: scanner.buffer, from: lineStart, to: bodyEnd)
            scanner.index = lineStart
            scanner.end = lineEnd
            line = lineNumber
            scanner.skipWhitespace()
            if !scanner.atEnd {
                guard beginElement() else { return }
                let index = elementCount - 1
                do throws(JSONSyntaxError) {
                    let isObject = scanner.peek() == UInt8(ascii: "{")
                    if isObject {
                        try decodeObject(index: index, depth: 0)
                    } else {
                        try scanner.skipValue(depth: 0)
                    }
                    scanner.skipWhitespace()
                    guard scanner.atEnd else { throw scanner.unexpected("expected the end of the line") }
                    if !isObject {
                        invalidElementCount += 1
                        addDetail(index: index, field: "", reason: "must be a JSON object")
                    }
                } catch {
                    addSyntaxError(index: index, error)
                }
            }
            lineStart = lineEnd + 1
        }
    }

    /// The offset of the next `\n` at or after `start`, or `end`; scans 8 bytes per step.
    static func nextNewline(in buffer: UnsafeRawBufferPointer, from start: Int, to end: Int) -> Int {
        var index = start
        // SWAR: a byte of `word ^ 0x0A…0A` is zero exactly where the word holds '\n'.
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        while index + 8 <= end {
            let loaded = UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: index, as: UInt64.self))
            let word = loaded ^ (ones &* 0x0A)
            let found = (word &- ones) & ~word & highs
            if found != 0 { return index + (found.trailingZeroBitCount >> 3) }
            index += 8
        }
        while index < end, buffer[index] != 0x0A { index += 1 }
        return index
    }

    /// The outcome: every transaction, or one error describing all problems found.
    func result(format: TransactionDecoder.Format) -> Result<[Transaction], TransactionValidationError> {
        if tooManyTransactions {
            return .failure(
                TransactionValidationError(
                    code: .payloadTooLarge,
                    message: "The batch holds more than \(limits.maximumTransactions) transactions."))
        }
        if syntaxErrorCount > 0 {
            let message =
                format == .ndjson
                ? "\(syntaxErrorCount) of \(elementCount) lines are not valid JSON; nothing was accepted."
                : "The body is not valid JSON; nothing was accepted."
            return .failure(TransactionValidationError(code: .invalidJSON, message: message, details: details))
        }
        if problemCount > 0 {
            let message =
                "\(invalidElementCount) of \(elementCount) transactions are invalid "
                + "(\(problemCount) problems); nothing was accepted."
            return .failure(TransactionValidationError(code: .invalidFields, message: message, details: details))
        }
        return .success(transactions)
    }
}
