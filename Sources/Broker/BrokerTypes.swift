import Monitor

/// The answer to one ingest request.
public enum IngestOutcome: Sendable, Equatable {
    /// Stored durably and applied. Sequence numbers are those of the `transaction` events.
    case accepted(accepted: Int, duplicates: Int, firstSeq: UInt64?, lastSeq: UInt64?)
    /// Refused, nothing stored: a transaction id was reused with different content (one detail
    /// per reused id, `index` into the request).
    case idConflict([TransactionValidationError.Detail])
    /// Refused, nothing stored: applying the request would overflow a total (one detail per
    /// offending transaction, `index` into the request).
    case invalid([TransactionValidationError.Detail])
    /// The journal failed or the server is stopping: nothing stored (the server answers 503).
    case unavailable(String)
}

/// Where an ingest outcome goes once its commit group is decided.
public enum IngestReplier: Sendable {
    /// Called on the broker's thread (simple; one call per request).
    case closure(@Sendable (IngestOutcome) -> Void)
    /// Collected per target: one `deliver` per target per commit group, so an event loop gets one
    /// mailbox post for all its answers instead of one per request (measured: with per-request
    /// posts, mailbox-lock futex calls outnumber requests under 64-connection ingest, 1.2 against
    /// 0.15 per request; `loadtest/run.sh ingest`).
    case batched(IngestReplyTarget, token: any Sendable)
}

/// Receives the outcomes of one commit group for the requests it submitted, in order.
public protocol IngestReplyTarget: AnyObject, Sendable {
    func deliver(_ replies: [IngestReply])
}

/// One request of an `ingest(_:target:)` batch. (Structs, not tuples: a tuple type's metadata is
/// looked up at run time on every use, which showed in profiles.)
public struct IngestRequest: Sendable {
    public var transactions: [Transaction]
    /// One per transaction, computed by `init` on the submitting thread (an event loop), so the
    /// broker thread does not hash ids.
    public var digests: [TransactionDigest]
    public var token: any Sendable

    public init(transactions: [Transaction], token: any Sendable) {
        self.transactions = transactions
        self.digests = TransactionDigest.of(transactions)
        self.token = token
    }
}

/// One outcome for a batched target, with the token its request carried.
public struct IngestReply: Sendable {
    public var token: any Sendable
    public var outcome: IngestOutcome
}

/// The answer to one publish request.
public enum PublishOutcome: Sendable, Equatable {
    case published(seq: UInt64)
    case unavailable(String)
}

/// A new subscriber's start: what to send before live events.
public struct SubscriptionStart: Sendable {
    /// JSON messages to send first, in order: `hello`, then a `snapshot` or the replayed events.
    public var messages: [[UInt8]]
    /// The last sequence number covered; live events after it follow.
    public var seq: UInt64
}

/// A request to start a subscription, possibly resuming after `since` within `epoch`.
public struct SubscriptionRequest: Sendable {
    public var topics: Set<String>
    public var since: UInt64?
    public var epoch: String?
    /// Called on the broker's thread; must hand over to the subscriber's loop (its mailbox, so
    /// that it runs after every batch already delivered to that loop and before later ones).
    public var reply: @Sendable (SubscriptionStart) -> Void

    public init(topics: Set<String>, since: UInt64?, epoch: String?, reply: @escaping @Sendable (SubscriptionStart) -> Void) {
        self.topics = topics
        self.since = since
        self.epoch = epoch
        self.reply = reply
    }
}

/// Tunables of the broker.
public struct BrokerConfiguration: Sendable {
    /// Sequenced events kept for resume.
    public var historyCapacity = 10_000
    /// Bytes the resume history may hold (``BrokerEvent/retainedBytes``), whatever the event
    /// count: 64 MiB. Ordinary events retain ~150–400 bytes, so the default 10,000 events take
    /// 2–4 MiB and this bound does not bind; it caps the case of large published messages
    /// (10,000 × 60 KiB would be 600 MB) at 64 MiB, which is still 16 times the default
    /// outbound bound, the most one client can be replayed (see `replayByteLimit`).
    public var historyBytes = 64 << 20
    /// The most bytes of JSON (plus framing) one resume may replay: a replay beyond it would
    /// put the subscriber past its outbound bound before it sees a live event, so it gets a
    /// `snapshot` with `"recovered":false` instead. The server sets it to `--outbound-limit`.
    public var replayByteLimit = 4 << 20
    /// Recent alerts sent in a snapshot.
    public var snapshotAlerts = 20
    /// Most recent transaction ids remembered for idempotency.
    public var idempotencyWindow = 1_000_000
    /// Cluster mode: how long an id stays in the window, in milliseconds of log time (the
    /// entries' stream time), besides the count bound; nil: the count bound alone.
    public var idempotencyLifetimeMilliseconds: UInt64?
    /// Cluster mode: the longest an append waits for this broker's own last entry to be applied
    /// (a reading that lost Redis must not hold writes back: past it they go to the log, which
    /// decides them the same).
    public var ownEntryWait = Duration.milliseconds(100)
    /// Cluster mode: the most transactions one append carries (a larger single write goes
    /// alone); writes past it wait for the next append.
    public var groupTransactions = 65_536

    public init() {}
}

/// Work queued for the broker by any thread; drained in order, a group at a time.
enum BrokerCommand: Sendable {
    case ingest([Transaction], IngestReplier)
    /// Several requests gathered by one event loop during one iteration.
    case ingestBatch([IngestRequest], IngestReplyTarget)
    case publish(topic: String, data: [UInt8], @Sendable (PublishOutcome) -> Void)
    case subscribe(SubscriptionRequest)
    case tick(connections: Int, now: Int64)
    case query(@Sendable (isolated MessageBroker) -> Void)
    /// The journal finished some groups (see `JournalPipeline`).
    case journalled
    /// Cluster mode: an append completed or the log delivered something.
    case cluster(ClusterCommand)

    var isWrite: Bool {
        switch self {
        case .ingest, .ingestBatch, .publish: true
        default: false
        }
    }

    /// How many transactions the command carries.
    var transactionCount: Int {
        switch self {
        case .ingest(let transactions, _): transactions.count
        case .ingestBatch(let requests, _):
            // By index: iterating copied each request (a retain and release of its arrays and
            // token), ~5% of the broker's time under single-transaction POSTs.
            requests.indices.reduce(0) { $0 + requests[$1].transactions.count }
        default: 0
        }
    }
}
