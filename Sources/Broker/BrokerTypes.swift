import Monitor

/// What the journal stores, in order: the source of truth that replay turns back into state.
public enum LogEntry: Sendable, Equatable {
    /// The accepted (non-duplicate) transactions of one POST, applied together.
    case transactions([Transaction])
    /// One message published to a custom topic; `data` is its raw JSON text.
    case message(topic: String, data: [UInt8])
}

/// The answer to one ingest request.
public enum IngestOutcome: Sendable, Equatable {
    /// Stored durably and applied. Sequence numbers are those of the `transaction` events.
    case accepted(accepted: Int, duplicates: Int, firstSeq: UInt64?, lastSeq: UInt64?)
    /// Refused, nothing stored: the HTTP status (400 overflow, 409 id conflict) and JSON body.
    case rejected(status: Int, body: [UInt8])
    /// The journal failed or the server is stopping: 503, nothing stored.
    case unavailable(String)
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
    /// Recent alerts sent in a snapshot.
    public var snapshotAlerts = 20

    public init() {}
}

/// Work queued for the broker by any thread; drained in order, a group at a time.
enum BrokerCommand: Sendable {
    case ingest([Transaction], @Sendable (IngestOutcome) -> Void)
    case publish(topic: String, data: [UInt8], @Sendable (PublishOutcome) -> Void)
    case subscribe(SubscriptionRequest)
    case tick(connections: Int, now: Int64)
    case query(@Sendable (isolated Broker) -> Void)

    var isWrite: Bool {
        switch self {
        case .ingest, .publish: true
        default: false
        }
    }
}
