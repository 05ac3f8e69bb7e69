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
/// - The server's rules (DESIGN.md §3, docs/DOMAIN-RULES.md): the same field checks, amounts up to
///   ``maximumAmount``, ids compared as UTF-8 bytes. A repeated `id` with the same content
///   (investor, syndicate, amount) is a duplicate, counted once (``duplicateCount``); the same
///   `id` with different content stops the job like any invalid record, naming the line (the
///   server answers `409`). Every `id` is remembered (the server remembers the most recent
///   `--idempotency-window`), so memory also grows with the number of distinct ids: about
///   50–100 bytes each. Event times are not checked against a clock: the job has no receive
///   time, and the rankings do not use event times.
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
    /// Larger amounts are refused, as by the server's `--max-amount`.
    public let maximumAmount: Money
    /// The rankings so far.
    public private(set) var rankings: Rankings
    /// Transactions applied so far (duplicates not included).
    public private(set) var transactionCount = 0
    /// Transactions skipped because their `id` was seen before with the same content.
    public private(set) var duplicateCount = 0
    /// Whether ``finish()`` has been called.
    public private(set) var isFinished = false

    var csv: CSVTransactionReader
    var splitter: JSONArraySplitter
    /// NDJSON: the start of a line whose end has not arrived yet.
    var carry: [UInt8] = []
    /// NDJSON: lines before the carried one (or before the next chunk).
    var linesDone = 0
    let decoder: TransactionDecoder
    /// What each `id` stood for when first applied.
    var knownIds: [IdentifierBytes: IdentifiedContent] = [:]

    /// The content an idempotency `id` is bound to, by ordinals of ``Rankings``' tables (exact:
    /// an ordinal stands for one id's bytes). The event time is not part of it, as on the server.
    struct IdentifiedContent: Hashable {
        var investor: Int32
        var syndicate: Int32
        var amount: Money
    }

    /// The most leaders ``Rankings`` maintains while reading; larger ``top(_:)`` limits are
    /// selected once at the end (``Rankings/top(_:)``: O(n log limit)), since keeping a long
    /// leader list up to date costs O(K) per transaction.
    public static let maximumMaintainedLeaders = 10

    /// Creates a job for the top `topCount` investors (at least 1; see ``maximumMaintainedLeaders``).
    public init(
        format: InputFormat, topCount: Int = 5, receivedAt: Int64 = 0,
        maximumRecordBytes: Int = CSVTransactionReader.defaultMaximumRecordBytes,
        maximumAmount: Money = TransactionDecoder.Limits.defaultMaximumAmount
    ) {
        self.format = format
        self.receivedAt = receivedAt
        self.maximumRecordBytes = maximumRecordBytes
        self.maximumAmount = maximumAmount
        rankings = Rankings(topCount: min(topCount, Self.maximumMaintainedLeaders))
        csv = CSVTransactionReader(
            receivedAt: receivedAt, maximumRecordBytes: maximumRecordBytes, maximumAmount: maximumAmount)
        splitter = JSONArraySplitter(maximumElementBytes: maximumRecordBytes)
        decoder = TransactionDecoder(
            limits: TransactionDecoder.Limits(
                maximumBodyBytes: Int.max, maximumTransactions: Int.max, maximumDetails: 1,
                maximumAmount: maximumAmount, maximumClockSkewMilliseconds: nil))
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

    /// Applies one transaction to the rankings unless its `id` was seen before: a duplicate is
    /// counted, a conflict (same `id`, other content) throws naming the line (worked out only then).
    mutating func apply(_ transaction: Transaction, line: @autoclosure () -> Int?) throws(TransactionFileError) {
        guard transaction.amount.cents > 0 else {
            throw TransactionFileError(line: line(), field: "amount", reason: "must be greater than 0")
        }
        // `Rankings.apply` refuses only non-positive amounts, ruled out above: `try?` drops nothing.
        guard let id = transaction.id else {
            _ = try? rankings.apply(transaction)
            transactionCount += 1
            return
        }
        let key = IdentifierBytes(id)
        if let known = knownIds[key] {
            guard known == content(of: transaction) else {
                throw TransactionFileError(
                    line: line(), field: "id", reason: "id \"\(id)\" was already used with different content")
            }
            duplicateCount += 1
            return
        }
        _ = try? rankings.apply(transaction)
        transactionCount += 1
        if let content = content(of: transaction) { knownIds[key] = content }
    }

    /// The content of `transaction` by ordinals, or `nil` if its investor or syndicate is new.
    private func content(of transaction: Transaction) -> IdentifiedContent? {
        guard let investor = rankings.investorIndex.ordinal(of: transaction.investor),
            let syndicate = rankings.syndicateIndex.ordinal(of: transaction.syndicate)
        else { return nil }
        return IdentifiedContent(investor: investor, syndicate: syndicate, amount: transaction.amount)
    }
}
