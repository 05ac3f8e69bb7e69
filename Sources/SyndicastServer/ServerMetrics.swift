import Broker
import CoreMetrics
import Prometheus
import Synchronization
import TLS

/// The server's metrics: a `PrometheusCollectorRegistry` it owns (no process-wide bootstrap, so
/// in-process tests each get their own), the swift-metrics handles registered in it
/// (``MetricFamilies``), and the request counters the endpoints bump.
///
/// Nothing on the fan-out path touches the registry: per-message counts are plain integers of
/// each loop (``LoopMetrics``), published by the loop's ~1 s tick; the per-request counters here
/// are relaxed atomics, copied into the registry at scrape time (``exposition(_:)``).
final class ServerMetrics: Sendable {
    /// Why an ingest request was refused (the `reason` label of `syndicast_ingest_refused_total`).
    enum RefusalReason: String, CaseIterable, Sendable {
        /// The body did not decode (malformed JSON or NDJSON, a field out of range).
        case invalid
        /// The batch held no transaction.
        case empty
        /// Too many transactions were waiting for the broker (429).
        case overloaded
        /// A transaction id was reused with different content (409).
        case idConflict = "id_conflict"
        /// A total would overflow (422).
        case overflow
        /// The journal failed; ingest is stopped (503).
        case unavailable
    }

    let registry: PrometheusCollectorRegistry
    let families: MetricFamilies

    let httpRequests = Atomic<Int>(0)
    let transactionsAccepted = Atomic<Int>(0)
    let transactionsDuplicate = Atomic<Int>(0)
    /// Ingest requests refused, all reasons (for `ServerHealth`).
    let ingestRejected = Atomic<Int>(0)
    /// By ``RefusalReason``, in `allCases` order.
    private let refusals = Mutex<[Int]>(RefusalReason.allCases.map { _ in 0 })
    let messagesPublished = Atomic<Int>(0)
    let webSocketsOpened = Atomic<Int>(0)
    let slowConsumersClosed = Atomic<Int>(0)
    /// Stream handshakes refused for their token (401) or a topic outside it (403).
    let streamTokenRefused = Atomic<Int>(0)
    /// Failed TLS handshakes by ``TLSFailure/Reason``, in `allCases` order (see ServerMetrics+TLS).
    let tlsFailures = Mutex<[Int]>(TLSFailure.Reason.allCases.map { _ in 0 })
    /// What the atomics held at the last scrape (the registry's counters take the difference).
    private let published = Mutex<[Int]>([])
    /// Connections open on each loop by kind, as each loop last counted them (its tick).
    private let loopConnections: Mutex<[ConnectionCounts]>

    init(loopCount: Int = 0) {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        families = MetricFamilies(registry: registry)
        loopConnections = Mutex(Array(repeating: ConnectionCounts(), count: loopCount))
    }

    /// Counts an ingest request refused for `reason`.
    func refused(_ reason: RefusalReason) {
        ingestRejected.add(1, ordering: .relaxed)
        if let index = RefusalReason.allCases.firstIndex(of: reason) {
            refusals.withLock { $0[index] += 1 }
        }
    }

    /// Stores what loop `index` counted at its tick.
    func storeConnections(_ counts: ConnectionCounts, loop index: Int) {
        loopConnections.withLock { all in
            if all.indices.contains(index) { all[index] = counts }
        }
    }

    /// What a scrape reads besides the registry: taken on the broker's thread.
    struct Sample {
        var openConnections: Int
        var webSocketSubscribers: Int
        var serverSentSubscribers: Int
        var seq: UInt64
        var holdings: BrokerHoldings
        var brokerCounts: BrokerCounts
    }

    /// Publishes the gauges and the per-request counters into the registry, then renders it in
    /// the Prometheus text format (version 0.0.4). Call from one thread at a time (the broker's).
    func exposition(_ sample: Sample) -> [UInt8] {
        let families = self.families
        let brokerCounts = sample.brokerCounts
        let values =
            [
                httpRequests.load(ordering: .relaxed), transactionsAccepted.load(ordering: .relaxed),
                transactionsDuplicate.load(ordering: .relaxed), messagesPublished.load(ordering: .relaxed),
                webSocketsOpened.load(ordering: .relaxed), slowConsumersClosed.load(ordering: .relaxed),
                brokerCounts.resumesHit, brokerCounts.resumesMissed, streamTokenRefused.load(ordering: .relaxed),
            ] + families.alerts.map { brokerCounts.alerts(raisedBy: $0.rule) } + refusals.withLock { $0 }
        let counters =
            [
                families.httpRequests, families.transactionsAccepted, families.transactionsDuplicate, families.messagesPublished,
                families.webSocketsOpened, families.slowConsumersClosed, families.resumesHit, families.resumesMissed,
                families.streamTokenRefused,
            ] + families.alerts.map(\.counter) + families.ingestRefused
        published.withLock { last in
            if last.count != values.count { last = Array(repeating: 0, count: values.count) }
            for (index, (value, counter)) in zip(values, counters).enumerated() {
                if value > last[index] { counter.increment(by: Int64(value - last[index])) }
                last[index] = value
            }
        }
        let connections = loopConnections.withLock { $0.reduce(ConnectionCounts()) { $0.adding($1) } }
        families.connections.http.set(max(0, sample.openConnections - connections.webSocket - connections.serverSent))
        families.connections.webSocket.set(connections.webSocket)
        families.connections.serverSent.set(connections.serverSent)
        families.openConnections.set(sample.openConnections)
        families.subscribersWebSocket.set(sample.webSocketSubscribers)
        families.subscribersServerSent.set(sample.serverSentSubscribers)
        families.sequence.set(Int64(truncatingIfNeeded: sample.seq))
        let holdings = sample.holdings
        families.investors.set(holdings.investors)
        families.syndicates.set(holdings.syndicates)
        families.spikeWindowEntries.set(holdings.windowEntries)
        families.historyEvents.set(holdings.historyEvents)
        families.historyBytes.set(holdings.historyBytes)
        families.idempotencyIds.set(holdings.idempotencyIds)
        return registry.emitToBuffer()
    }
}

/// Connections of one loop by kind (the tick walks the loop's connections once a second).
struct ConnectionCounts: Sendable {
    var webSocket = 0
    var serverSent = 0

    func adding(_ other: ConnectionCounts) -> ConnectionCounts {
        ConnectionCounts(webSocket: webSocket + other.webSocket, serverSent: serverSent + other.serverSent)
    }
}
