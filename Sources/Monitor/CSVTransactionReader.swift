/// Reads transactions from CSV text that arrives in chunks of any size (RFC 4180).
///
/// The first record is the header: the columns `investorId`, `syndicateId` and `amount` are
/// required, `id` and `timestamp` optional, in any order (names compared ignoring ASCII case);
/// other columns are ignored. Each later record is one transaction, checked by the same field
/// rules as the JSON decoder (DESIGN.md §3). Records end with CRLF or LF.
///
/// RFC 4180 §2: "Fields containing line breaks (CRLF), double quotes, and commas should be
/// enclosed in double-quotes" and "a double-quote appearing inside a field must be escaped by
/// preceding it with another double quote". Spaces are part of a field (§2.4: "Spaces are
/// considered part of a field and should not be ignored"), so `" 12.50"` is not an amount.
/// Leniencies: a UTF-8 byte order mark before the header is skipped, blank lines are skipped,
/// and the last record need not end with a line break (§2.2).
///
/// The reader copies nothing on the fast path: fields are parsed in place from the chunk, and
/// only a record that straddles two chunks is carried over (at most ``maximumRecordBytes``).
/// Every problem is a ``TransactionFileError`` naming the line where the record starts.
public struct CSVTransactionReader: Sendable {
    /// The default bound on one record, in bytes.
    public static let defaultMaximumRecordBytes = 1 << 20

    /// Longest accepted record in bytes; this bounds the memory held between chunks.
    public let maximumRecordBytes: Int
    /// The timestamp (epoch ms) of rows without one.
    public let receivedAt: Int64
    /// Larger amounts are refused, as by the server (``TransactionDecoder/Limits/maximumAmount``).
    public let maximumAmount: Money
    /// The 1-based line on which the next record starts.
    public private(set) var line = 1
    /// Transactions read so far.
    public private(set) var transactionCount = 0

    /// The column layout, once the header was read.
    var columns: CSVColumns?
    /// The start of a record whose end has not arrived yet.
    var carry: [UInt8] = []
    /// The fields of the record just scanned; reused from record to record.
    var fields: [CSVField] = []
    var isFinished = false

    /// Creates a reader; `receivedAt` is the timestamp of rows without one.
    public init(
        receivedAt: Int64 = 0, maximumRecordBytes: Int = CSVTransactionReader.defaultMaximumRecordBytes,
        maximumAmount: Money = TransactionDecoder.Limits.defaultMaximumAmount
    ) {
        self.receivedAt = receivedAt
        self.maximumAmount = maximumAmount
        self.maximumRecordBytes = max(16, maximumRecordBytes)
        fields.reserveCapacity(8)
    }

    /// Reads the complete records in `chunk` (with any carried-over start), calling `body` with
    /// each transaction and the line its record starts on. The incomplete tail is kept.
    public mutating func consume(
        _ chunk: UnsafeRawBufferPointer, _ body: (Transaction, Int) throws(TransactionFileError) -> Void
    ) throws(TransactionFileError) {
        guard !isFinished else { throw TransactionFileError(line: nil, reason: "input after the end of the file") }
        var position = 0
        // Slow path: complete the carried record one line at a time (a line break may be quoted).
        while !carry.isEmpty, position < chunk.count {
            let newline = TransactionBatchDecoder.nextNewline(in: chunk, from: position, to: chunk.count)
            let stop = min(newline + 1, chunk.count)
            carry.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[position..<stop]))
            position = stop
            guard carry.count <= maximumRecordBytes else { throw recordTooLong() }
            guard newline < chunk.count else { return }
            var pending = carry
            carry = []
            let rest = try withBytes(of: pending) { (buffer) throws(TransactionFileError) -> Int in
                try processRecords(buffer, from: 0, isFinal: false, body)
            }
            if rest < pending.count {
                pending.removeSubrange(0..<rest)
                carry = pending
            }
        }
        // Fast path: records parsed in place from the chunk; only the incomplete tail is copied.
        let rest = try processRecords(chunk, from: position, isFinal: false, body)
        if rest < chunk.count {
            carry.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[rest..<chunk.count]))
            guard carry.count <= maximumRecordBytes else { throw recordTooLong() }
        }
    }

    /// Reads the array's records; see ``consume(_:_:)-(UnsafeRawBufferPointer,_)``.
    public mutating func consume(
        _ chunk: [UInt8], _ body: (Transaction, Int) throws(TransactionFileError) -> Void
    ) throws(TransactionFileError) {
        try withBytes(of: chunk) { (buffer) throws(TransactionFileError) in try consume(buffer, body) }
    }

    /// Ends the input: reads the last record (which need not end with a line break) and checks
    /// that there was a header. Throws if a quoted field is still open.
    public mutating func finish(_ body: (Transaction, Int) throws(TransactionFileError) -> Void) throws(TransactionFileError) {
        guard !isFinished else { return }
        isFinished = true
        if !carry.isEmpty {
            let pending = carry
            carry = []
            _ = try withBytes(of: pending) { (buffer) throws(TransactionFileError) -> Int in
                try processRecords(buffer, from: 0, isFinal: true, body)
            }
        }
        guard columns != nil else {
            throw TransactionFileError(
                line: nil, reason: "the file is empty; expected a header such as investorId,syndicateId,amount")
        }
    }

    /// Scans and handles whole records from `start`; returns where the first incomplete one starts.
    private mutating func processRecords(
        _ buffer: UnsafeRawBufferPointer, from start: Int, isFinal: Bool,
        _ body: (Transaction, Int) throws(TransactionFileError) -> Void
    ) throws(TransactionFileError) -> Int {
        var position = start
        if columns == nil, line == 1, buffer.count - position >= 3, buffer[position] == 0xEF,
            buffer[position + 1] == 0xBB, buffer[position + 2] == 0xBF
        {
            position += 3  // The byte order mark some spreadsheets write before the header.
        }
        while position < buffer.count {
            guard let record = try scanRecord(buffer, from: position, to: buffer.count, isFinal: isFinal) else {
                return position
            }
            guard record.next - position <= maximumRecordBytes else { throw recordTooLong() }
            let isBlank = fields.count == 1 && !fields[0].isQuoted && fields[0].start == fields[0].end
            if !isBlank {
                if columns == nil {
                    try readHeader(buffer)
                } else {
                    let transaction = try readTransaction(buffer)
                    transactionCount += 1
                    try body(transaction, line)
                }
            }
            line += 1 + record.newlines
            position = record.next
        }
        return position
    }

    private func recordTooLong() -> TransactionFileError {
        TransactionFileError(
            line: line, reason: "record longer than \(maximumRecordBytes) bytes (is a quoted field not closed?)")
    }
}
