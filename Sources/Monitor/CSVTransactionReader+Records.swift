/// One field of a scanned CSV record: a byte range of the buffer, quotes excluded.
struct CSVField: Sendable {
    var start: Int
    var end: Int
    /// Whether the field was enclosed in double quotes.
    var isQuoted: Bool
    /// Whether the range holds `""` pairs that stand for one `"` each.
    var hasEscapedQuotes: Bool
}

/// Where each known column sits in a record.
struct CSVColumns: Sendable {
    var count: Int
    var investorId: Int
    var syndicateId: Int
    var amount: Int
    var id: Int?
    var timestamp: Int?
}

private let quote = UInt8(ascii: "\"")
private let comma = UInt8(ascii: ",")
private let lineFeed = UInt8(ascii: "\n")
private let carriageReturn = UInt8(ascii: "\r")

extension CSVTransactionReader {
    /// Splits the record that starts at `start` into ``fields``.
    ///
    /// RFC 4180 §2 grammar (line breaks relaxed to CRLF or LF):
    /// `record = field *(COMMA field)`, `field = (escaped / non-escaped)`,
    /// `escaped = DQUOTE *(TEXTDATA / COMMA / CR / LF / 2DQUOTE) DQUOTE`.
    /// Returns `nil` when the record's end is not in the buffer yet (never when `isFinal`); then
    /// the offset after the record and the number of line breaks inside its quoted fields.
    mutating func scanRecord(
        _ buffer: UnsafeRawBufferPointer, from start: Int, to end: Int, isFinal: Bool
    ) throws(TransactionFileError) -> (next: Int, newlines: Int)? {
        fields.removeAll(keepingCapacity: true)
        var index = start
        var newlines = 0
        while true {
            if index < end, buffer[index] == quote {
                index += 1
                let contentStart = index
                var hasEscapedQuotes = false
                while true {
                    guard index < end else {
                        guard isFinal else { return nil }
                        throw fieldError("a quoted field is not closed before the end of the file", column: fields.count)
                    }
                    let byte = buffer[index]
                    if byte == quote {
                        // A quote followed by a quote is an escaped quote; otherwise it closes.
                        guard index + 1 < end else {
                            if isFinal { break }
                            return nil
                        }
                        guard buffer[index + 1] == quote else { break }
                        hasEscapedQuotes = true
                        index += 2
                        continue
                    }
                    if byte == lineFeed { newlines += 1 }
                    index += 1
                }
                fields.append(CSVField(start: contentStart, end: index, isQuoted: true, hasEscapedQuotes: hasEscapedQuotes))
                index += 1
                guard index < end else { return isFinal ? (index, newlines) : nil }
                switch buffer[index] {
                case comma:
                    index += 1
                    continue
                case lineFeed:
                    return (index + 1, newlines)
                case carriageReturn:
                    guard index + 1 < end else { return isFinal ? (index + 1, newlines) : nil }
                    if buffer[index + 1] == lineFeed { return (index + 2, newlines) }
                default:
                    break
                }
                throw fieldError("expected ',' or the end of the line after a closing quote")
            }
            let fieldStart = index
            while index < end {
                let byte = buffer[index]
                if byte == comma || byte == lineFeed { break }
                if byte == quote {
                    fields.append(CSVField(start: fieldStart, end: index, isQuoted: false, hasEscapedQuotes: false))
                    throw fieldError("a double quote inside an unquoted field (quote the field and double the quote)")
                }
                index += 1
            }
            if index < end, buffer[index] == comma {
                fields.append(CSVField(start: fieldStart, end: index, isQuoted: false, hasEscapedQuotes: false))
                index += 1
                continue
            }
            guard index < end || isFinal else { return nil }
            // The line ends here (LF, CRLF or the end of the file); a CR before the LF is not data.
            let fieldEnd = index > fieldStart && buffer[index - 1] == carriageReturn ? index - 1 : index
            fields.append(CSVField(start: fieldStart, end: fieldEnd, isQuoted: false, hasEscapedQuotes: false))
            return (index < end ? index + 1 : index, newlines)
        }
    }

    /// An error about the field being scanned or the last field scanned, named by its column.
    func fieldError(_ reason: String, column: Int? = nil) -> TransactionFileError {
        let position = column ?? max(fields.count - 1, 0)
        return TransactionFileError(line: line, field: columnName(position), reason: reason)
    }

    /// The header name of a column position, once the header is known.
    func columnName(_ position: Int) -> String? {
        guard let columns else { return "header" }
        switch position {
        case columns.investorId: return "investorId"
        case columns.syndicateId: return "syndicateId"
        case columns.amount: return "amount"
        case columns.id: return "id"
        case columns.timestamp: return "timestamp"
        default: return "column \(position + 1)"
        }
    }

    /// Reads the header record in ``fields``: finds the known columns.
    mutating func readHeader(_ buffer: UnsafeRawBufferPointer) throws(TransactionFileError) {
        let names = ["investorid", "syndicateid", "amount", "id", "timestamp"]
        var positions: [Int?] = [nil, nil, nil, nil, nil]
        for (position, field) in fields.enumerated() {
            let name = Self.withContent(buffer, field) { content in
                String(decoding: content, as: UTF8.self).lowercased()
            }
            guard let known = names.firstIndex(of: name) else { continue }
            guard positions[known] == nil else {
                throw TransactionFileError(
                    line: line, field: "header", reason: "column \(name) appears more than once")
            }
            positions[known] = position
        }
        guard let investorId = positions[0], let syndicateId = positions[1], let amount = positions[2] else {
            let missing = zip(["investorId", "syndicateId", "amount"], positions).filter { $0.1 == nil }.map(\.0)
            throw TransactionFileError(
                line: line, field: "header",
                reason: "missing column \(missing.joined(separator: ", ")) "
                    + "(expected investorId,syndicateId,amount and optionally id,timestamp)")
        }
        columns = CSVColumns(
            count: fields.count, investorId: investorId, syndicateId: syndicateId, amount: amount,
            id: positions[3], timestamp: positions[4])
    }

    /// Calls `body` with the field's text: in place, or unescaped (`""` → `"`) into a temporary.
    static func withContent<Result, Failure: Error>(
        _ buffer: UnsafeRawBufferPointer, _ field: CSVField,
        _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        guard field.hasEscapedQuotes else {
            return try body(UnsafeRawBufferPointer(rebasing: buffer[field.start..<field.end]))
        }
        var unescaped: [UInt8] = []
        unescaped.reserveCapacity(field.end - field.start)
        var index = field.start
        while index < field.end {
            unescaped.append(buffer[index])
            index += buffer[index] == quote ? 2 : 1
        }
        return try withBytes(of: unescaped) { (content) throws(Failure) -> Result in try body(content) }
    }
}
