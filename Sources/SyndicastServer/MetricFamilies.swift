import CoreMetrics
import Monitor
import Prometheus
import TLS

/// Every `/metrics` family, registered once in the server's registry and held as swift-metrics
/// handles (`Counter`, `Meter`, `Timer`, `Recorder`) backed by swift-prometheus collectors. Names
/// follow Prometheus conventions: `syndicast_` prefix, base unit suffix, `_total` on counters.
struct MetricFamilies: Sendable {
    /// Connections open right now by `kind`.
    struct ConnectionGauges: Sendable {
        let http: Meter
        let webSocket: Meter
        let serverSent: Meter
    }

    let httpRequests: CoreMetrics.Counter
    let transactionsAccepted: CoreMetrics.Counter
    let transactionsDuplicate: CoreMetrics.Counter
    /// By ``ServerMetrics/RefusalReason``, in `allCases` order.
    let ingestRefused: [CoreMetrics.Counter]
    let messagesPublished: CoreMetrics.Counter
    let webSocketsOpened: CoreMetrics.Counter
    let slowConsumersClosed: CoreMetrics.Counter
    let streamTokenRefused: CoreMetrics.Counter
    let streamMessagesSent: CoreMetrics.Counter
    let streamBytesSent: CoreMetrics.Counter
    let resumesHit: CoreMetrics.Counter
    let resumesMissed: CoreMetrics.Counter
    /// By ``TLSFailure/Reason``, in `allCases` order.
    let tlsHandshakeFailures: [CoreMetrics.Counter]
    let alerts: [(rule: Alert.Rule, counter: CoreMetrics.Counter)]

    let connections: ConnectionGauges
    let openConnections: Meter
    let subscribersWebSocket: Meter
    let subscribersServerSent: Meter
    let sequence: Meter
    let investors: Meter
    let syndicates: Meter
    let spikeWindowEntries: Meter
    let historyEvents: Meter
    let historyBytes: Meter
    let idempotencyIds: Meter

    let ingestLatency: CoreMetrics.Timer
    let journalCommitLatency: CoreMetrics.Timer
    let journalCommitGroupSize: CoreMetrics.Recorder
    let fanOutPass: CoreMetrics.Timer
    let eventLoopLag: CoreMetrics.Timer

    init(registry: PrometheusCollectorRegistry) {
        let factory = PrometheusMetricsFactory(registry: registry)
        func descriptor(_ name: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: "syndicast", metricName: name, unitName: unit, helpText: help)
        }
        func counter(_ name: String, _ help: String, _ labels: [(String, String)] = []) -> CoreMetrics.Counter {
            let described = descriptor(name, "total", help)
            let handler = registry.makeCounter(descriptor: described, labels: labels)
            return CoreMetrics.Counter(label: described.name, dimensions: labels, handler: handler, factory: factory)
        }
        func gauge(_ name: String, _ help: String, _ labels: [(String, String)] = []) -> Meter {
            let described = descriptor(name, "", help)
            let handler = registry.makeGauge(descriptor: described, labels: labels)
            return Meter(label: described.name, dimensions: labels, handler: handler, factory: factory)
        }
        func timer(_ name: String, _ help: String, buckets: [Duration]) -> CoreMetrics.Timer {
            let described = descriptor(name, "seconds", help)
            let handler = registry.makeDurationHistogram(descriptor: described, labels: [], buckets: buckets)
            return CoreMetrics.Timer(label: described.name, dimensions: [], handler: handler, factory: factory)
        }

        httpRequests = counter("http_requests", "HTTP requests handled")
        transactionsAccepted = counter("transactions_accepted", "transactions stored")
        transactionsDuplicate = counter("transactions_duplicate", "re-sent transactions recognised by id")
        ingestRefused = ServerMetrics.RefusalReason.allCases.map {
            counter("ingest_refused", "ingest requests refused, by reason", [("reason", $0.rawValue)])
        }
        messagesPublished = counter("messages_published", "messages published to custom topics")
        webSocketsOpened = counter("websockets_opened", "WebSocket handshakes completed")
        slowConsumersClosed = counter("slow_consumers_closed", "stream subscribers closed as slow consumers (4008)")
        streamTokenRefused = counter(
            "stream_token_refused", "stream handshakes refused for a missing, invalid or expired token, or a topic outside it")
        streamMessagesSent = counter("stream_messages_sent", "events queued to stream subscribers")
        streamBytesSent = counter("stream_sent_bytes", "bytes of the events queued to stream subscribers (WebSocket frames)")
        resumesHit = counter("resumes", "resume requests, by result", [("result", "hit")])
        resumesMissed = counter("resumes", "resume requests, by result", [("result", "miss")])
        tlsHandshakeFailures = TLSFailure.Reason.allCases.map {
            counter("tls_handshake_failures", "TLS handshakes that failed, by reason", [("reason", $0.rawValue)])
        }
        alerts = [Alert.Rule.amountThreshold, .syndicateSpike].map {
            (rule: $0, counter: counter("alerts", "alerts raised, by rule", [("rule", $0.rawValue)]))
        }

        let connectionHelp = "connections open, by kind"
        connections = ConnectionGauges(
            http: gauge("connections", connectionHelp, [("kind", "http")]),
            webSocket: gauge("connections", connectionHelp, [("kind", "websocket")]),
            serverSent: gauge("connections", connectionHelp, [("kind", "sse")]))
        openConnections = gauge("open_connections", "TCP connections open")
        let subscriberHelp = "stream subscribers, by kind"
        subscribersWebSocket = gauge("stream_subscribers", subscriberHelp, [("kind", "websocket")])
        subscribersServerSent = gauge("stream_subscribers", subscriberHelp, [("kind", "sse")])
        sequence = gauge("sequence", "current event sequence number")
        investors = gauge("investors", "distinct investors held")
        syndicates = gauge("syndicates", "distinct syndicates held")
        spikeWindowEntries = gauge("spike_window_entries", "spike-window entries held across all syndicates")
        historyEvents = gauge("history_events", "events held for resume")
        historyBytes = gauge("history_bytes", "bytes the resume history holds")
        idempotencyIds = gauge("idempotency_ids", "transaction ids remembered for idempotency")

        let fast: [Duration] = [10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 100_000].map { .microseconds($0) }
        let slow: [Duration] = [0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 1_000].map { .microseconds(Int($0 * 1_000)) }
        ingestLatency = timer("ingest_request_duration", "ingest requests, from the decoded body to the answer", buckets: slow)
        journalCommitLatency = timer("journal_commit_duration", "journal commits (one transaction and sync each)", buckets: slow)
        let groupDescriptor = descriptor("journal_commit_group", "transactions", "transactions per journal commit")
        journalCommitGroupSize = CoreMetrics.Recorder(
            label: groupDescriptor.name, dimensions: [], aggregate: true,
            handler: registry.makeValueHistogram(
                descriptor: groupDescriptor, labels: [], buckets: [1, 2, 5, 10, 50, 100, 500, 1_000, 5_000, 10_000, 50_000]),
            factory: factory)
        fanOutPass = timer("fanout_pass_duration", "fan-out passes (one loop queueing a batch on its subscribers)", buckets: fast)
        eventLoopLag = timer("event_loop_lag", "how late each loop's 1 s timer fires", buckets: slow)
    }
}
