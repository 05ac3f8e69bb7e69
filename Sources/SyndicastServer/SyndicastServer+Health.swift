import Broker
import TLS

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
    /// Failed TLS handshakes by reason (``tlsHandshakeFailureReasons``).
    public var tlsHandshakeFailures = Array(repeating: 0, count: ServerHealth.tlsHandshakeFailureReasons.count)
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
        ] + zip(Self.tlsHandshakeFailureReasons, tlsHandshakeFailures).map { ("tls_handshake_\($0)", $1) }
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
            health.tlsHandshakeFailures = metrics.tlsFailures.withLock { $0 }
            reply(health)
        }
    }
}

extension ServerHealth {
    /// The `reason` labels of failed TLS handshakes, in the order of ``tlsHandshakeFailures``.
    public static let tlsHandshakeFailureReasons = TLSFailure.Reason.allCases.map(\.rawValue)
}
