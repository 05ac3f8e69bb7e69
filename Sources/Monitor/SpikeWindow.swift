/// What ``SpikeWindow/record(_:ignoringAtOrBefore:)`` did with one transaction's timestamp.
public enum SpikeOutcome: Sendable, Hashable {
    /// Evaluated: `count > S` and the syndicate was not spiking, so it now is: raise an alert.
    case alert(count: Int)
    /// Evaluated without a new alert (the window is quiet, or it was already spiking).
    case evaluated(count: Int)
    /// Older than the newest timestamp but inside its window: counted later, not evaluated now.
    case joinedLate
    /// At or before newest − W, or at or before the rule clock's G − W: outside every future
    /// window, so the rule ignores it.
    case ignored
}

/// One syndicate's sliding window for the spike rule (seed task 2), exactly as DESIGN.md §4 states,
/// with the rule clock of docs/SPIKE-RULE.md.
///
/// After accepting a transaction with timestamp `t`: `count = #{transactions with timestamp in
/// (t − W, t]}`. Alert when `count > S` and the syndicate is not already spiking; it stops
/// spiking when a later evaluation finds `count ≤ S`. On in-order input this is the seed's Redis
/// algorithm (`ZADD key t txId; ZREMRANGEBYSCORE key -inf t−W; ZCARD key`). A transaction older
/// than the newest seen joins the window but is not evaluated; one at or before newest − W is
/// ignored (no later window `(t' − W, t']` with `t' ≥ newest` can contain it). The ``TransactionMonitor``
/// passes its rule clock's floor `G − W` (G: the newest timestamp accepted for any syndicate):
/// a timestamp at or before it is ignored too, and once `newest ≤ G − 2W` the ``TransactionMonitor`` calls
/// ``expire()``, since no evaluation can count any entry again.
///
/// Memory is bounded by what is inside the window: equal timestamps share one entry with a count.
/// Entries live in chunks of at most ``chunkCapacity`` (see SpikeWindow+Chunks.swift), so a late
/// insert costs two binary searches and a shift within one chunk; a shift of the whole window
/// would cost O(window) on the broker thread (87 µs per insert at 400k entries).
public struct SpikeWindow: Sendable {
    struct Entry: Sendable, Hashable {
        var timestamp: Int64
        var count: Int
    }

    /// The most entries one chunk holds.
    static let chunkCapacity = 512

    /// W in milliseconds.
    public let windowMilliseconds: Int64
    /// S: an evaluation alerts when the count exceeds it.
    public let threshold: Int
    /// Runs of entries in ascending timestamp order, each non-empty and at most ``chunkCapacity``
    /// long, followed by `tail`; the entries of the first chunk before `head` are evicted.
    var chunks: [[Entry]] = []
    /// The last chunk, where in-order timestamps append; empty only when the window is.
    var tail: [Entry] = []
    /// The first timestamp of each chunk, `tail` last (the first chunk's may be evicted: it is
    /// still below every timestamp a late insert can bring), searched without touching the chunks.
    var chunkFirstTimestamps: [Int64] = []
    var head = 0
    /// The oldest timestamp held (the first chunk's entry at `head`); meaningless when empty. The
    /// in-order path compares the cutoff with it alone, so it reads no chunk while nothing leaves.
    var oldestTimestamp: Int64 = 0
    /// Distinct timestamps held (the memory bound).
    public internal(set) var entryCount = 0
    /// Transactions in the window `(newest − W, newest]`; 0 after ``expire()``.
    public internal(set) var count = 0
    /// The newest timestamp seen, if any.
    public private(set) var newestTimestamp: Int64?
    /// Whether the last evaluation found `count > S`.
    public private(set) var isSpiking = false
    /// Transactions at the newest timestamp not yet added to its entry (the last one), which is
    /// brought up to date when a newer timestamp arrives. A batch shares its receive time, so most
    /// records are another transaction at the newest timestamp, and they touch only this struct.
    /// Reading the entries' header and last element would be two cache misses per transaction
    /// (~3% of the server's CPU samples under durable NDJSON ingest): counting here takes 1.0–2.5%
    /// less server CPU per transaction (`loadtest/run.sh ingest --batch 1000`).
    var newestPending = 0

    /// Creates an empty window of `windowMilliseconds` (W) with threshold `threshold` (S).
    public init(windowMilliseconds: Int64, threshold: Int) {
        self.windowMilliseconds = max(1, windowMilliseconds)
        self.threshold = threshold
    }

    /// A window holding `entries` (ascending, distinct timestamps, the newest last; a snapshot's
    /// restore): chunked as in-order appends chunk them, `count` their sum, nothing pending.
    init(windowMilliseconds: Int64, threshold: Int, entries: [Entry], count: Int, newestTimestamp: Int64?, isSpiking: Bool) {
        self.init(windowMilliseconds: windowMilliseconds, threshold: threshold)
        var start = 0
        while start < entries.count {
            let piece = Array(entries[start..<min(start + Self.chunkCapacity, entries.count)])
            chunkFirstTimestamps.append(piece[0].timestamp)
            start += piece.count
            if start < entries.count { chunks.append(piece) } else { tail = piece }
        }
        oldestTimestamp = entries.first?.timestamp ?? 0
        entryCount = entries.count
        self.count = count
        self.newestTimestamp = newestTimestamp
        self.isSpiking = isSpiking
    }

    /// The exclusive lower bound `t − W` of the window ending at `t`; `nil` when it lies below
    /// `Int64.min`, so that every representable timestamp is inside.
    @inline(__always)
    func cutoff(_ timestamp: Int64) -> Int64? {
        let (value, overflow) = timestamp.subtractingReportingOverflow(windowMilliseconds)
        return overflow ? nil : value
    }

    /// Records one accepted transaction's timestamp and applies the rule; a timestamp at or
    /// before `floor` (the rule clock's `G − W − M`, `nil` for none) is ignored.
    public mutating func record(_ timestamp: Int64, ignoringAtOrBefore floor: Int64? = nil) -> SpikeOutcome {
        if let floor, timestamp <= floor { return .ignored }
        guard let newest = newestTimestamp, timestamp < newest else {
            return recordInOrder(timestamp)
        }
        if let lowest = cutoff(newest), timestamp <= lowest { return .ignored }
        insertLate(timestamp)
        count += 1
        return .joinedLate
    }

    private mutating func recordInOrder(_ timestamp: Int64) -> SpikeOutcome {
        count += 1
        if timestamp == newestTimestamp, entryCount > 0 {
            // The same window as the last record: nothing more falls out of it.
            newestPending += 1
            return evaluate()
        }
        newestTimestamp = timestamp
        appendNewest(timestamp)
        // ZREMRANGEBYSCORE key -inf t−W: drop everything at or before the cutoff.
        if let lowest = cutoff(timestamp) { evict(atOrBefore: lowest) }
        return evaluate()
    }

    /// Applies the rule to the current `count`.
    private mutating func evaluate() -> SpikeOutcome {
        if count > threshold {
            if isSpiking { return .evaluated(count: count) }
            isSpiking = true
            return .alert(count: count)
        }
        isSpiking = false
        return .evaluated(count: count)
    }

    /// Notes a transaction whose spike decision was made outside the monitor (`--spike-store
    /// redis`): no entry is kept, only the newest timestamp seen (`timestamp`, nil when the rule
    /// clock ignores it) and whether the syndicate spikes.
    mutating func noteExternallyDecided(_ timestamp: Int64?, _ decision: ExternalSpikeDecision?) {
        if let timestamp, newestTimestamp.map({ timestamp > $0 }) ?? true { newestTimestamp = timestamp }
        switch decision {
        case .alert: isSpiking = true
        case .ended: isSpiking = false
        case nil: break
        }
    }

    /// Drops every entry: the caller has established that no later evaluation can count any of
    /// them (the newest is at or before the rule clock's `G − 2W − M`). `newestTimestamp` and
    /// `isSpiking` stay, so a later transaction is treated exactly as if the entries were kept.
    public mutating func expire() {
        chunks = []
        tail = []
        chunkFirstTimestamps = []
        head = 0
        entryCount = 0
        count = 0
        newestPending = 0
    }
}
