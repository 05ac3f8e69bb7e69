import Basics

extension CSVTransactionReader {
    /// Converts the record in ``fields`` into a transaction, by the field rules of DESIGN.md §3.
    ///
    /// `investorId`, `syndicateId`: non-empty, at most 128 UTF-8 bytes, no control characters.
    /// `amount`: see ``Money/init(parsing:)``, at most ``maximumAmount``. `id`: empty means none. `timestamp`: empty means
    /// ``receivedAt``; otherwise integer epoch milliseconds or an RFC 3339 date-time.
    func readTransaction(_ buffer: UnsafeRawBufferPointer) throws(TransactionFileError) -> Transaction {
        guard let columns else { throw TransactionFileError(line: line, reason: "no header") }
        guard fields.count == columns.count else {
            throw TransactionFileError(
                line: line, reason: "expected \(columns.count) fields as in the header, found \(fields.count)")
        }
        // Closures below capture only these locals, never `self` (which would copy the reader).
        let line = line
        let maximumAmount = maximumAmount
        let investorId = try Self.withContent(buffer, fields[columns.investorId]) {
            (content) throws(TransactionFileError) -> String in
            try Self.identifier(content, line: line, field: "investorId")
        }
        let syndicateId = try Self.withContent(buffer, fields[columns.syndicateId]) {
            (content) throws(TransactionFileError) -> String in
            try Self.identifier(content, line: line, field: "syndicateId")
        }
        let amount = try Self.withContent(buffer, fields[columns.amount]) {
            (content) throws(TransactionFileError) -> Money in
            guard !content.isEmpty else { throw TransactionFileError(line: line, field: "amount", reason: "is required") }
            switch Money.parse(content, from: 0, to: content.count) {
            case .success(let money) where money <= maximumAmount: return money
            case .success, .failure(.tooLarge):
                throw TransactionFileError(line: line, field: "amount", reason: "must be at most \(maximumAmount)")
            case .failure(let error): throw TransactionFileError(line: line, field: "amount", reason: error.reason)
            }
        }
        var id: String?
        if let column = columns.id, fields[column].start < fields[column].end {
            id = try Self.withContent(buffer, fields[column]) { (content) throws(TransactionFileError) -> String in
                try Self.identifier(content, line: line, field: "id")
            }
        }
        var timestamp = receivedAt
        if let column = columns.timestamp, fields[column].start < fields[column].end {
            timestamp = try Self.withContent(buffer, fields[column]) { (content) throws(TransactionFileError) -> Int64 in
                try Self.timestamp(content, line: line)
            }
        }
        return Transaction(id: id, investorId: investorId, syndicateId: syndicateId, amount: amount, timestamp: timestamp)
    }

    /// A non-empty identifier of at most 128 bytes of UTF-8 without control characters.
    private static func identifier(
        _ content: UnsafeRawBufferPointer, line: Int, field: String
    ) throws(TransactionFileError) -> String {
        func failure(_ reason: String) -> TransactionFileError {
            TransactionFileError(line: line, field: field, reason: reason)
        }
        guard !content.isEmpty else { throw failure("must not be empty") }
        guard content.count <= Transaction.maximumIdentifierBytes else {
            throw failure("must be at most \(Transaction.maximumIdentifierBytes) bytes")
        }
        var isASCII = true
        for byte in content {
            if byte < 0x20 { throw failure("must not contain control characters") }
            if byte >= 0x80 { isASCII = false }
        }
        if !isASCII, !UTF8Validator.isValid(content) {
            throw failure("must be valid UTF-8")
        }
        return String(decoding: content, as: UTF8.self)
    }

    /// Integer epoch milliseconds (optionally negative) or an RFC 3339 date-time.
    private static func timestamp(_ content: UnsafeRawBufferPointer, line: Int) throws(TransactionFileError) -> Int64 {
        let digitsStart = content[0] == UInt8(ascii: "-") ? 1 : 0
        let isInteger = digitsStart < content.count && content[digitsStart...].allSatisfy { $0 &- 0x30 < 10 }
        if isInteger {
            guard let milliseconds = TransactionBatchDecoder.integer(content, 0..<content.count),
                milliseconds >= RFC3339Timestamp.minimumMilliseconds,
                milliseconds <= RFC3339Timestamp.maximumMilliseconds
            else { throw TransactionFileError(line: line, field: "timestamp", reason: "must be between years 0000 and 9999") }
            return milliseconds
        }
        switch RFC3339Timestamp.parse(content, from: 0, to: content.count) {
        case .success(let milliseconds): return milliseconds
        case .failure(let error): throw TransactionFileError(line: line, field: "timestamp", reason: error.reason)
        }
    }
}
