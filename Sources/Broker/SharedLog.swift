import Monitor

/// The ordered log several instances share in cluster mode (issue 15, CLUSTER-CONTRACT.md): every
/// instance appends its commit groups to it and applies every entry, in log order, so state,
/// alerts and sequence numbers are the same on every instance.
///
/// An implementation decides idempotency atomically with the append (the contract's ingest
/// script): requests in order, an id accepted by an earlier request of the call counts as stored
/// for later ones, a re-sent id with the same fingerprint is a duplicate, with another one a
/// conflict that refuses its whole request. It appends one entry when at least one request has
/// something to apply (a new transaction, or a message: a request without keys).
///
/// Implementations: ``InMemorySharedLog`` (tests, one process); a Redis Stream outside the
/// Broker target (the broker imports no Redis).
public protocol SharedLog: AnyObject, Sendable {
    /// The log's history identifier (16 lowercase hex characters, created once by the first
    /// instance); the stream epoch clients see is derived from it and the rule configuration.
    var epoch: String { get }

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
    /// Set when the log evaluates the spike rule (`--spike-store redis`): the script's spike
    /// section (``SharedLogSpikeRule/forEachArgument(of:_:)``) follows the requests' pairs.
    public var spikeRule: SharedLogSpikeRule?

    public init(payload: [UInt8], requests: [SharedLogRequest], spikeRule: SharedLogSpikeRule? = nil) {
        self.payload = payload
        self.requests = requests
        self.spikeRule = spikeRule
    }
}

/// One request of a group: its transactions, whose idempotency keys (one per transaction, in
/// request order) the log decides on; none for a message.
///
/// The keys are made by the log's implementation, on its own thread, from the transactions
/// (``forEachKey(_:)`` writes them without allocating), not by the broker's thread.
public struct SharedLogRequest: Sendable {
    /// The request's transactions, duplicates included; empty for a message.
    public var transactions: [Transaction]

    public init(transactions: [Transaction]) {
        self.transactions = transactions
    }

    /// Whether the request is a message (`n_r = 0`: it always has something to apply).
    public var isMessage: Bool { transactions.isEmpty }

    /// The keys, one per transaction.
    public var keys: [SharedLogKey] { transactions.map(SharedLogKey.init) }

    /// Calls `body` with each transaction's id bytes (empty when it has none) and fingerprint
    /// (see ``SharedLogKey/fingerprint``), in order; the buffers are valid during the call only.
    public func forEachKey(_ body: (_ id: UnsafeBufferPointer<UInt8>, _ fingerprint: UnsafeBufferPointer<UInt8>) throws -> Void) rethrows {
        var fingerprint: [UInt8] = []
        for transaction in transactions {
            fingerprint.removeAll(keepingCapacity: true)
            SharedLogKey.appendFingerprint(of: transaction, to: &fingerprint)
            var id = transaction.id ?? ""
            try id.withUTF8 { id in try fingerprint.withUnsafeBufferPointer { try body(id, $0) } }
        }
    }
}

/// One transaction's idempotency key: its id's UTF-8 bytes (empty when it has none: never a
/// duplicate, nothing stored) and its content fingerprint.
public struct SharedLogKey: Sendable, Hashable {
    public var id: [UInt8]
    /// The same bytes on every instance for the same investorId, syndicateId and amount
    /// (the timestamp is left out, as in single-node mode: a retry may be stamped anew):
    /// `u32be(byte count) investorId u32be(byte count) syndicateId i64be(cents)`, unambiguous
    /// whatever bytes the ids hold.
    public var fingerprint: [UInt8]

    public init(id: [UInt8], fingerprint: [UInt8]) {
        self.id = id
        self.fingerprint = fingerprint
    }

    /// The key of `transaction`.
    public init(_ transaction: Transaction) {
        id = transaction.id.map { Array($0.utf8) } ?? []
        fingerprint = []
        Self.appendFingerprint(of: transaction, to: &fingerprint)
    }

    /// Appends `transaction`'s fingerprint to `bytes`.
    static func appendFingerprint(of transaction: Transaction, to bytes: inout [UInt8]) {
        func appendBigEndian(_ value: UInt64, bytes count: Int) {
            for shift in stride(from: (count - 1) * 8, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> shift)) }
        }
        bytes.reserveCapacity(bytes.count + 16 + transaction.investorId.utf8.count + transaction.syndicateId.utf8.count)
        // Identifiers are at most 128 bytes (``Transaction/maximumIdentifierBytes``); four length
        // bytes keep any length unambiguous.
        appendBigEndian(UInt64(transaction.investorId.utf8.count), bytes: 4)
        bytes += transaction.investorId.utf8
        appendBigEndian(UInt64(transaction.syndicateId.utf8.count), bytes: 4)
        bytes += transaction.syndicateId.utf8
        appendBigEndian(UInt64(bitPattern: transaction.amount.cents), bytes: 8)
    }
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

    public init(position: SharedLogPosition, payload: [UInt8], skip: SharedLogSkipSet?, spikes: SharedLogSpikeDecisions? = nil) {
        self.position = position
        self.payload = payload
        self.skip = skip
        self.spikes = spikes
    }

    /// An entry as stored: `skipText` is the `s` field's bytes (nil when the entry has none),
    /// `spikeText` the `k` field's (nil when it has none; a damaged one marks the entry damaged,
    /// like a damaged `s`).
    public init(
        position: SharedLogPosition, payload: [UInt8], skipText: (some Collection<UInt8>)?, spikeText: [UInt8]? = nil
    ) {
        let spikes = spikeText.map { SharedLogSpikeDecisions(text: $0) }
        let damaged = spikes.map { $0 == nil } ?? false
        self.init(
            position: position, payload: payload, skip: damaged ? nil : skipText.flatMap { SharedLogSkipSet(text: $0) },
            spikes: spikes ?? nil)
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
