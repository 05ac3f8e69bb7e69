import Broker
import Synchronization

/// Counters for `/metrics` (Prometheus text format), updated with relaxed atomics.
final class ServerMetrics: Sendable {
    let httpRequests = Atomic<Int>(0)
    let transactionsAccepted = Atomic<Int>(0)
    let transactionsDuplicate = Atomic<Int>(0)
    let ingestRejected = Atomic<Int>(0)
    let messagesPublished = Atomic<Int>(0)
    let webSocketsOpened = Atomic<Int>(0)
    let slowConsumersClosed = Atomic<Int>(0)

    /// The exposition text.
    func render(openConnections: Int, streamSubscribers: Int, seq: UInt64, holdings: BrokerHoldings) -> String {
        let lines: [(String, String, String, Int)] = [
            ("syndicast_http_requests_total", "counter", "HTTP requests handled", httpRequests.load(ordering: .relaxed)),
            ("syndicast_transactions_accepted_total", "counter", "transactions stored", transactionsAccepted.load(ordering: .relaxed)),
            (
                "syndicast_transactions_duplicate_total", "counter", "re-sent transactions recognised by id",
                transactionsDuplicate.load(ordering: .relaxed)
            ),
            ("syndicast_ingest_rejected_total", "counter", "ingest requests refused (4xx/5xx)", ingestRejected.load(ordering: .relaxed)),
            (
                "syndicast_messages_published_total", "counter", "messages published to custom topics",
                messagesPublished.load(ordering: .relaxed)
            ),
            ("syndicast_websockets_opened_total", "counter", "WebSocket handshakes completed", webSocketsOpened.load(ordering: .relaxed)),
            (
                "syndicast_slow_consumers_closed_total", "counter", "subscribers closed with 4008",
                slowConsumersClosed.load(ordering: .relaxed)
            ),
            ("syndicast_open_connections", "gauge", "TCP connections open", openConnections),
            ("syndicast_stream_subscribers", "gauge", "WebSocket and SSE stream subscribers", streamSubscribers),
            ("syndicast_sequence", "gauge", "current event sequence number", Int(truncatingIfNeeded: seq)),
            ("syndicast_investors", "gauge", "distinct investors held", holdings.investors),
            ("syndicast_syndicates", "gauge", "distinct syndicates held", holdings.syndicates),
            ("syndicast_spike_window_entries", "gauge", "spike-window entries held across all syndicates", holdings.windowEntries),
            ("syndicast_history_events", "gauge", "events held for resume", holdings.historyEvents),
            ("syndicast_history_bytes", "gauge", "bytes the resume history holds", holdings.historyBytes),
            ("syndicast_idempotency_ids", "gauge", "transaction ids remembered for idempotency", holdings.idempotencyIds),
        ]
        var text = ""
        for (name, type, help, value) in lines {
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name) \(value)\n"
        }
        return text
    }
}
