/// Seed task 1 as a batch job: reads a transaction file in chunks and ranks the investors.
///
/// Feed the file with ``consume(_:)-(UnsafeRawBufferPointer)`` in chunks of any size (split
/// anywhere, even inside a field or a multi-byte character), then call ``finish()`` and read
/// ``top(_:)``. The order is ``Rankings``' (DESIGN.md §4), which this job feeds one transaction
/// at a time with ``Rankings/apply(_:)``.
///
/// - Memory: the rankings (one entry per distinct investor with its set of syndicates) plus at
///   most one record or array element carried between chunks (``maximumRecordBytes``) and, for
///   JSON and NDJSON, one decoded batch (about one chunk). It does not grow with the file size.
/// - Errors: the first problem stops the job with a ``TransactionFileError`` naming the line
///   (`line 1234: amount: must be greater than 0`); the rankings then hold the transactions
///   before it and should not be reported.
/// - Identifiers are checked but not deduplicated: unlike the server, a repeated `id` counts
///   again (remembering every id would make memory grow with the file).
public struct RankingJob: Sendable {
    /// How the file is framed.
    public enum InputFormat: String, Sendable, Hashable, CaseIterable {
        /// RFC 4180 CSV with a header line (see ``CSVTransactionReader``).
        case csv
        /// One JSON array of transaction objects (or a single object).
        case json
        /// One JSON object per line.
        case ndjson

        /// The format a file name's extension implies: `.csv`, `.json`, `.ndjson` or `.jsonl`.
        public init?(path: String) {
            guard let dot = path.lastIndex(of: "."), !path[dot...].contains("/") else { return nil }
            switch path[path.index(after: dot)...].lowercased() {
            case "csv": self = .csv
            case "json": self = .json
            case "ndjson", "jsonl": self = .ndjson
            default: return nil
            }
        }
    }

    /// The input format.
    public let format: InputFormat
    /// Longest record (CSV), line (NDJSON) or array element (JSON) in bytes.
    public let maximumRecordBytes: Int
    /// The timestamp (epoch ms) of transactions without one; irrelevant to the ranking.
    public let receivedAt: Int64
    /// The rankings so far.
    public private(set) var rankings: Rankings
    /// Transactions applied so far.
    public private(set) var transactionCount = 0
    /// Whether ``finish()`` has been called.
    public private(set) var isFinished = false

    var csv: CSVTransactionReader
    var splitter: JSONArraySplitter
    /// NDJSON: the start of a line whose end has not arrived yet.
    var carry: [UInt8] = []
    /// NDJSON: lines before the carried one (or before the next chunk).
    var linesDone = 0
    let decoder: TransactionDecoder

    /// The most leaders ``Rankings`` maintains while reading; larger ``top(_:)`` limits are
    /// selected once at the end (``Rankings/top(_:)``: O(n log limit)), since keeping a long
    /// leader list up to date costs O(K) per transaction.
    public static let maximumMaintainedLeaders = 10

    /// Creates a job for the top `topCount` investors (at least 1; see ``maximumMaintainedLeaders``).
    public init(
        format: InputFormat, topCount: Int = 5, receivedAt: Int64 = 0,
        maximumRecordBytes: Int = CSVTransactionReader.defaultMaximumRecordBytes
    ) {
        self.format = format
        self.receivedAt = receivedAt
        self.maximumRecordBytes = maximumRecordBytes
        rankings = Rankings(topCount: min(topCount, Self.maximumMaintainedLeaders))
        csv = CSVTransactionReader(receivedAt: receivedAt, maximumRecordBytes: maximumRecordBytes)
        splitter = JSONArraySplitter(maximumElementBytes: maximumRecordBytes)
        decoder = TransactionDecoder(
            limits: TransactionDecoder.Limits(
                maximumBodyBytes: Int.max, maximumTransactions: Int.max, maximumDetails: 1))
    }

    /// Reads one chunk of the file; throws at the first invalid record.
    public mutating func consume(_ chunk: UnsafeRawBufferPointer) throws(TransactionFileError) {
        guard !isFinished else { throw TransactionFileError(line: nil, reason: "input after the end of the file") }
        switch format {
        case .csv:
            var reader = csv
            csv = CSVTransactionReader()  // Keeps `reader`'s buffers uniquely referenced.
            defer { csv = reader }
            try reader.consume(chunk) { (transaction, line) throws(TransactionFileError) in
                try apply(transaction, line: line)
            }
        case .ndjson:
            try consumeLines(chunk)
        case .json:
            var splitter = splitter
            self.splitter = JSONArraySplitter(batchBytes: 0)
            defer { self.splitter = splitter }
            try splitter.consume(chunk) { (batch, elements) throws(TransactionFileError) in
                try decodeArray(batch, elements: elements)
            }
        }
    }

    /// Reads one chunk held in an array; see ``consume(_:)-(UnsafeRawBufferPointer)``.
    public mutating func consume(_ chunk: [UInt8]) throws(TransactionFileError) {
        try withBytes(of: chunk) { (buffer) throws(TransactionFileError) in try consume(buffer) }
    }

    /// Ends the input: reads what remains (a last line without a line break) and checks that
    /// the file was complete (a CSV header, a closed JSON array, no open quote).
    public mutating func finish() throws(TransactionFileError) {
        guard !isFinished else { return }
        isFinished = true
        switch format {
        case .csv:
            var reader = csv
            csv = CSVTransactionReader()
            defer { csv = reader }
            try reader.finish { (transaction, line) throws(TransactionFileError) in
                try apply(transaction, line: line)
            }
        case .ndjson:
            let pending = carry
            carry = []
            if !pending.isEmpty {
                try withBytes(of: pending) { (buffer) throws(TransactionFileError) in try decodeLines(buffer) }
            }
        case .json:
            var splitter = splitter
            self.splitter = JSONArraySplitter(batchBytes: 0)
            defer { self.splitter = splitter }
            try splitter.finish { (batch, elements) throws(TransactionFileError) in
                try decodeArray(batch, elements: elements)
            }
        }
    }

    /// The best `limit` investors, best first, with ranks from 1 (``Rankings/top(_:)``).
    public func top(_ limit: Int) -> [RankingEntry] {
        rankings.top(limit)
    }

    /// Applies one transaction to the rankings; an overflowing total names the line (which is
    /// only worked out then).
    mutating func apply(_ transaction: Transaction, line: @autoclosure () -> Int?) throws(TransactionFileError) {
        do {
            try rankings.apply(transaction)
        } catch {
            switch error {
            case .nonPositiveAmount:
                throw TransactionFileError(line: line(), field: "amount", reason: "must be greater than 0")
            case .totalOverflow:
                throw TransactionFileError(
                    line: line(), field: "amount", reason: "would overflow the investor's total invested")
            }
        }
        transactionCount += 1
    }
}
