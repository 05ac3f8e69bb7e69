import Monitor

/// The ordered log several instances share in cluster mode (issue 15, docs/CLUSTER.md): every
/// instance appends its commit groups to it and applies every entry, in log order, so state,
/// alerts and sequence numbers are the same on every instance.
///
/// The idempotency window is the log itself: each entry carries the records
/// (``SharedLogRecords``) of the requests it applies, and each instance's window is built from
/// them in order. The appending broker decides its group against its window as of the last entry
/// it applied (``SharedLogGroup/after``): a conflict there refuses the request before the append,
/// known duplicates travel in ``SharedLogRequest/knownDuplicates``. An implementation decides the
/// rest atomically with the append: against the records of the entries after that position, and
/// inside the group (requests in order, an id accepted by an earlier request counts as stored for
/// later ones, a re-sent id with the same fingerprint is a duplicate, with another one a conflict
/// that refuses its whole request). It appends one entry when at least one request has something
/// to apply (a new transaction, or a message: a request without transactions).
///
/// Implementations: ``InMemorySharedLog`` (tests, one process); a Redis Stream outside the
/// Broker target (the broker imports no Redis).
public protocol SharedLog: AnyObject, Sendable {
    /// The log's history identifier (16 lowercase hex characters, created once by the first
    /// instance); the stream epoch clients see is derived from it and the rule configuration.
    var epoch: String { get }

    /// How records are made: keyed with the log's key, the same for every instance.
    var records: SharedLogRecords { get }

    /// Decides and appends one commit group; `completion` runs once, on any thread, with the
    /// per-request outcomes and the appended entry's position, or with a failure, in which case
    /// nothing of the group is applied (its requests are answered 503).
    func append(group: SharedLogGroup, completion: @escaping @Sendable (Result<SharedLogAppendResult, SharedLogError>) -> Void)

    /// Delivers every entry after `position` (from the start when nil) in log order, then
    /// ``SharedLogDelivery/caughtUp`` once every entry that existed when reading started has been
    /// delivered, then later entries as they are appended, until the reading is cancelled. Read
    /// errors are retried from the last delivered position (never a gap, never a repeat).
    /// `deliver` runs on one thread at a time, in order, and must not call back into the log.
    func read(after position: SharedLogPosition?, deliver: @escaping @Sendable (SharedLogDelivery) -> Void) -> any SharedLogReading
}

/// A running ``SharedLog/read(after:deliver:)``.
public protocol SharedLogReading: Sendable {
    /// Stops the reading; once it returns, `deliver` is not called again.
    func cancel()
}

/// The position of an entry in the log: ordered, unique. A Redis stream id `ms-seq` is
/// `(high: ms, low: seq)`.
public struct SharedLogPosition: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Parses a Redis stream id, `ms-seq` in decimal; nil if malformed.
    public init?(streamId: some StringProtocol) {
        let parts = streamId.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let high = UInt64(parts[0]), let low = UInt64(parts[1]) else { return nil }
        self.init(high: high, low: low)
    }

    /// `high-low`, the Redis stream id form.
    public var description: String { "\(high)-\(low)" }

    public static func < (left: SharedLogPosition, right: SharedLogPosition) -> Bool {
        (left.high, left.low) < (right.high, right.low)
    }
}

/// One commit group as it is appended: one payload, one ``SharedLogRequest`` per request.
public struct SharedLogGroup: Sendable {
    /// One `JournalPayloadCodec` payload with one entry per request, in order: a transactions
    /// entry with all the request's transactions (duplicates included), or a message entry.
    public var payload: [UInt8]
    public var requests: [SharedLogRequest]
    /// The last entry the appending broker applied (nil: none): its window covers every entry up
    /// to it, so the log checks the records of the entries after it only.
    public var after: SharedLogPosition?
    /// Whether a non-zero id digest may occur twice among the requests' records (not counting
    /// known duplicates). False lets the log skip the per-transaction check when no entry follows
    /// ``after``.
    public var repeatsIds: Bool
    /// Set when the log evaluates the spike rule (`--spike-store redis`): the script's spike
    /// section (``SharedLogSpikeRule/forEachArgument(of:_:)``) follows the requests.
    public var spikeRule: SharedLogSpikeRule?

    public init(
        payload: [UInt8], requests: [SharedLogRequest], after: SharedLogPosition? = nil, repeatsIds: Bool = true,
        spikeRule: SharedLogSpikeRule? = nil
    ) {
        self.payload = payload
        self.requests = requests
        self.after = after
        self.repeatsIds = repeatsIds
        self.spikeRule = spikeRule
    }
}

/// One request of a group: its transactions, their records, and which of them the appending
/// broker already knows to be duplicates; no transactions for a message.
public struct SharedLogRequest: Sendable {
    /// The request's transactions, duplicates included; empty for a message.
    public var transactions: [Transaction]
    /// One ``SharedLogRecords`` record per transaction (24 bytes each).
    public var records: [UInt8]
    /// Ascending indices of the transactions that are duplicates in the appending broker's window
    /// as of ``SharedLogGroup/after``.
    public var knownDuplicates: [Int]

    public init(transactions: [Transaction], records: [UInt8], knownDuplicates: [Int] = []) {
        self.transactions = transactions
        self.records = records
        self.knownDuplicates = knownDuplicates
    }

    /// A message (`n_r = 0`: it always has something to apply).
    public static let message = SharedLogRequest(transactions: [], records: [])

    /// Whether the request is a message.
    public var isMessage: Bool { transactions.isEmpty }
}

/// What the log decided for one request of an appended group.
public enum SharedLogRequestOutcome: Sendable, Equatable {
    /// Accepted: `duplicates` of its transactions were already stored and are skipped.
    case accepted(duplicates: Int)
    /// Refused as a whole: the transactions at `indices` reuse a stored id with other content.
    case conflict(indices: [Int])
}

/// The reply to an append: where the entry went (nil when nothing was appended: every request
/// refused or all duplicates) and one outcome per request.
public struct SharedLogAppendResult: Sendable, Equatable {
    public var position: SharedLogPosition?
    public var requests: [SharedLogRequestOutcome]

    public init(position: SharedLogPosition?, requests: [SharedLogRequestOutcome]) {
        self.position = position
        self.requests = requests
    }
}

/// The log could not be reached or refused the call: nothing of the group was appended.
public struct SharedLogError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// One entry as it is read back.
public struct SharedLogEntry: Sendable {
    public var position: SharedLogPosition
    /// The group's payload, as appended.
    public var payload: [UInt8]
    /// What applying it leaves out (the entry's `s` field); nil when the field is damaged (or
    /// missing): the broker then skips the whole entry, as every instance does.
    public var skip: SharedLogSkipSet?
    /// The log's spike decisions (the entry's `k` field, `--spike-store redis`); nil when the
    /// entry has none.
    public var spikes: SharedLogSpikeDecisions?
    /// The records of the requests it applies (the entry's `i` field): what every instance adds
    /// to its idempotency window.
    public var records: [UInt8]

    public init(
        position: SharedLogPosition, payload: [UInt8], skip: SharedLogSkipSet?, spikes: SharedLogSpikeDecisions? = nil,
        records: [UInt8] = []
    ) {
        self.position = position
        self.payload = payload
        self.skip = skip
        self.spikes = spikes
        self.records = records
    }

    /// An entry as stored: `skipText` is the `s` field's bytes (nil when the entry has none),
    /// `spikeText` the `k` field's (nil when it has none; a damaged one marks the entry damaged,
    /// like a damaged `s`).
    public init(
        position: SharedLogPosition, payload: [UInt8], skipText: (some Collection<UInt8>)?, spikeText: [UInt8]? = nil,
        records: [UInt8] = []
    ) {
        let spikes = spikeText.map { SharedLogSpikeDecisions(text: $0) }
        // Records not a whole number of 24-byte records mark the entry damaged, like a damaged `s`.
        let damaged = (spikes.map { $0 == nil } ?? false) || records.count % SharedLogRecords.size != 0
        self.init(
            position: position, payload: payload, skip: damaged ? nil : skipText.flatMap { SharedLogSkipSet(text: $0) },
            spikes: spikes ?? nil, records: records)
    }
}

/// What a reading delivers.
public enum SharedLogDelivery: Sendable {
    case entry(SharedLogEntry)
    /// Every entry that existed when the reading started has been delivered.
    case caughtUp
}

/// How the broker turns requests into a payload and back (the server passes
/// `JournalPayloadCodec`; the Broker target does not import the Journal).
public struct SharedLogCodec: Sendable {
    public var encode: @Sendable ([JournalEntry]) -> [UInt8]
    public var decode: @Sendable ([UInt8]) throws -> [JournalEntry]

    public init(encode: @escaping @Sendable ([JournalEntry]) -> [UInt8], decode: @escaping @Sendable ([UInt8]) throws -> [JournalEntry]) {
        self.encode = encode
        self.decode = decode
    }
}
