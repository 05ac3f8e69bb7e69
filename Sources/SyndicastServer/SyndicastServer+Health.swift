import Broker

/// What the operator's log reports without a line per request: refusals by class, counted
/// since start, and whether the journal stopped ingest.
public struct ServerHealth: Sendable {
    /// Connections reset at accept because `--connection-limit` were open.
    public var refusedConnections: Int
    /// Ingest requests refused with a 4xx or 5xx status.
    public var rejectedIngestRequests: Int
    /// Stream subscribers closed with 4008 (slow consumer, `--outbound-limit`).
    public var slowConsumersClosed: Int
    /// Stream handshakes refused for their token or a topic outside it (`--stream-token-secret`).
    public var refusedStreamTokens = 0
    /// Why the journal stopped ingest (every later write gets 503), or nil while it works.
    public var journalFailure: String?

    /// Counters as given.
    public init(refusedConnections: Int, rejectedIngestRequests: Int, slowConsumersClosed: Int, journalFailure: String? = nil) {
        self.refusedConnections = refusedConnections
        self.rejectedIngestRequests = rejectedIngestRequests
        self.slowConsumersClosed = slowConsumersClosed
        self.journalFailure = journalFailure
    }

    /// The refusal counters by class name, for one log line per class that grew.
    public var refusals: [(name: String, count: Int)] {
        [
            ("connection_limit", refusedConnections), ("ingest_rejected", rejectedIngestRequests),
            ("slow_consumer", slowConsumersClosed), ("stream_token_refused", refusedStreamTokens),
        ]
    }
}

extension SyndicastServer {
    /// Reads the counters, asks the broker (on its thread) for its failure, and calls `reply`
    /// there with both.
    public func health(_ reply: @escaping @Sendable (ServerHealth) -> Void) {
        let metrics = context.metrics
        let group = self.group
        context.broker.query { broker in
            var health = ServerHealth(
                refusedConnections: group.refusedConnections,
                rejectedIngestRequests: metrics.ingestRejected.load(ordering: .relaxed),
                slowConsumersClosed: metrics.slowConsumersClosed.load(ordering: .relaxed),
                journalFailure: broker.failure)
            health.refusedStreamTokens = metrics.streamTokenRefused.load(ordering: .relaxed)
            reply(health)
        }
    }
}
