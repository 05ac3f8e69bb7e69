import Glibc
import Prometheus
import Reactor
import Testing

@testable import SyndicastServer

/// One sample line of the Prometheus text format: `name{label="value",…} number`.
struct ExpositionSample: Equatable {
    var name: String
    var labels: [String: String]
    var value: Double
}

/// A strict reader of the Prometheus text format (version 0.0.4) as far as the server writes it:
/// `# HELP` and `# TYPE` lines, then samples; anything else fails the test.
struct Exposition {
    var types: [String: String] = [:]
    var helps: [String: String] = [:]
    var samples: [ExpositionSample] = []

    init(_ text: String) throws {
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ", maxSplits: 3)
                try #require(parts.count == 4, "a comment line names a family and says something: \(line)")
                if parts[1] == "TYPE" {
                    try #require(["counter", "gauge", "histogram"].contains(parts[3]), "type of \(line)")
                    types[String(parts[2])] = String(parts[3])
                } else {
                    helps[String(parts[2])] = String(parts[3])
                }
                continue
            }
            try #require(!line.hasPrefix("#"), "unknown comment: \(line)")
            let valueStart = try #require(line.lastIndex(of: " "), "a sample has a value: \(line)")
            let value = try #require(Double(line[line.index(after: valueStart)...]), "a numeric value: \(line)")
            var series = line[..<valueStart]
            var labels: [String: String] = [:]
            if let open = series.firstIndex(of: "{") {
                try #require(series.last == "}", "labels close: \(line)")
                for pair in series[series.index(after: open)..<series.index(before: series.endIndex)].split(separator: ",") {
                    let halves = pair.split(separator: "=", maxSplits: 1)
                    try #require(halves.count == 2 && halves[1].first == "\"" && halves[1].last == "\"", "label \(pair)")
                    labels[String(halves[0])] = String(halves[1].dropFirst().dropLast())
                }
                series = series[..<open]
            }
            let name = String(series)
            try #require(name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" }, "metric name \(name)")
            samples.append(ExpositionSample(name: name, labels: labels, value: value))
        }
    }

    /// The family a sample belongs to (a histogram's `_bucket`, `_sum` and `_count` belong to it).
    func family(of sample: ExpositionSample) -> String? {
        if types[sample.name] != nil { return sample.name }
        for suffix in ["_bucket", "_sum", "_count"] where sample.name.hasSuffix(suffix) {
            let base = String(sample.name.dropLast(suffix.count))
            if types[base] == "histogram" { return base }
        }
        return nil
    }

    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }
}

@Suite("/metrics: the Prometheus exposition")
struct MetricsExpositionTests {
    /// Every family `/metrics` carries, with its type.
    static let families: [String: String] = [
        "syndicast_http_requests_total": "counter", "syndicast_transactions_accepted_total": "counter",
        "syndicast_transactions_duplicate_total": "counter", "syndicast_ingest_refused_total": "counter",
        "syndicast_messages_published_total": "counter", "syndicast_websockets_opened_total": "counter",
        "syndicast_slow_consumers_closed_total": "counter", "syndicast_stream_messages_sent_total": "counter",
        "syndicast_stream_sent_bytes_total": "counter", "syndicast_resumes_total": "counter", "syndicast_alerts_total": "counter",
        "syndicast_connections": "gauge", "syndicast_open_connections": "gauge", "syndicast_stream_subscribers": "gauge",
        "syndicast_sequence": "gauge", "syndicast_investors": "gauge", "syndicast_syndicates": "gauge",
        "syndicast_spike_window_entries": "gauge", "syndicast_history_events": "gauge", "syndicast_history_bytes": "gauge",
        "syndicast_idempotency_ids": "gauge", "syndicast_ingest_request_duration_seconds": "histogram",
        "syndicast_journal_commit_duration_seconds": "histogram", "syndicast_journal_commit_group_transactions": "histogram",
        "syndicast_fanout_pass_duration_seconds": "histogram", "syndicast_event_loop_lag_seconds": "histogram",
    ]

    @Test("parses, carries every family with its type, and counts what the requests did")
    func everyFamily() async throws {
        let api = InProcessAPI()
        let body = "[" + transactionJSON("t1") + "," + transactionJSON("t2", investor: "i2", amount: "20000.00") + "]"
        #expect(await api.send("POST", "/api/transactions", headers: jsonBody, body: body).status == 201)
        #expect(await api.send("POST", "/api/transactions", headers: jsonBody, body: "[" + transactionJSON("t1") + "]").status == 201)
        #expect(await api.send("POST", "/api/transactions", headers: jsonBody, body: "[{").status == 400)
        #expect(await api.send("POST", "/api/transactions", headers: jsonBody, body: "[]").status == 400)
        let answer = await api.send("GET", "/metrics")
        #expect(answer.status == 200)
        #expect(answer.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8")
        let exposition = try Exposition(answer.text)
        for (name, type) in Self.families {
            #expect(exposition.types[name] == type, "family \(name)")
            #expect(exposition.helps[name]?.isEmpty == false, "help of \(name)")
        }
        for sample in exposition.samples {
            #expect(exposition.family(of: sample) != nil, "\(sample.name) belongs to a declared family")
            #expect(sample.name.hasPrefix("syndicast_"))
        }
        #expect(exposition.value("syndicast_transactions_accepted_total") == 2)
        #expect(exposition.value("syndicast_transactions_duplicate_total") == 1)
        #expect(exposition.value("syndicast_ingest_refused_total", ["reason": "invalid"]) == 1)
        #expect(exposition.value("syndicast_ingest_refused_total", ["reason": "empty"]) == 1)
        #expect(exposition.value("syndicast_ingest_refused_total", ["reason": "overloaded"]) == 0)
        #expect(exposition.value("syndicast_alerts_total", ["rule": "amount_threshold"]) == 1)
        #expect(exposition.value("syndicast_alerts_total", ["rule": "syndicate_spike"]) == 0)
        #expect(exposition.value("syndicast_investors") == 2)
        #expect(exposition.value("syndicast_sequence") == 4, "two transactions, an alert, a rankings event")
        #expect(exposition.value("syndicast_resumes_total", ["result": "hit"]) == 0)
        for kind in ["http", "websocket", "sse"] {
            #expect(exposition.value("syndicast_connections", ["kind": kind]) != nil, "connections of kind \(kind)")
        }
        for kind in ["websocket", "sse"] {
            #expect(exposition.value("syndicast_stream_subscribers", ["kind": kind]) == 0)
        }
        // Scraping again publishes only what changed: the counters do not double.
        let again = try Exposition(await api.send("GET", "/metrics").text)
        #expect(again.value("syndicast_transactions_accepted_total") == 2)
        #expect(again.value("syndicast_alerts_total", ["rule": "amount_threshold"]) == 1)
    }

    @Test("a loop's counts and samples reach the registry only when published")
    func loopMetricsPublishInBatches() throws {
        let metrics = ServerMetrics(loopCount: 1)
        let loopMetrics = LoopMetrics(target: metrics)
        loopMetrics.messagesSent += 3
        loopMetrics.bytesSent += 300
        loopMetrics.recordPass(nanoseconds: 2_000)
        loopMetrics.recordIngest(nanoseconds: 3_000_000)
        let before = try Exposition(metrics.registry.emitToString())
        #expect(before.value("syndicast_stream_messages_sent_total") == 0)
        #expect(before.value("syndicast_fanout_pass_duration_seconds_count") == 0)
        loopMetrics.publish()
        loopMetrics.messagesSent += 2
        loopMetrics.publish()
        let after = try Exposition(metrics.registry.emitToString())
        #expect(after.value("syndicast_stream_messages_sent_total") == 5)
        #expect(after.value("syndicast_stream_sent_bytes_total") == 300)
        #expect(after.value("syndicast_fanout_pass_duration_seconds_count") == 1)
        #expect(after.value("syndicast_fanout_pass_duration_seconds_bucket", ["le": "0.000001"]) == nil)
        #expect(after.value("syndicast_fanout_pass_duration_seconds_bucket", ["le": "0.00001"]) == 1)
        #expect(after.value("syndicast_ingest_request_duration_seconds_count") == 1)
        #expect(after.value("syndicast_ingest_request_duration_seconds_sum") == 0.003)
        // A full buffer is published without waiting for the tick.
        for _ in 0..<LoopMetrics.sampleLimit { loopMetrics.recordPass(nanoseconds: 1_000) }
        let full = try Exposition(metrics.registry.emitToString())
        #expect(full.value("syndicast_fanout_pass_duration_seconds_count") == Double(1 + LoopMetrics.sampleLimit))
    }

    @Test("a journal commit records its duration and its group's transactions")
    func journalCommit() throws {
        let metrics = ServerMetrics()
        metrics.journalCommitted([.transactions([]), .message(topic: "orders", data: [])], nanoseconds: 1_500_000)
        let exposition = try Exposition(metrics.registry.emitToString())
        #expect(exposition.value("syndicast_journal_commit_duration_seconds_count") == 1)
        #expect(exposition.value("syndicast_journal_commit_duration_seconds_sum") == 0.0015)
        #expect(exposition.value("syndicast_journal_commit_group_transactions_count") == 1)
        #expect(exposition.value("syndicast_journal_commit_group_transactions_sum") == 0)
    }

    @Test("a fan-out pass counts one message per subscriber and event, with the frames' bytes")
    func fanOutCounts() throws {
        let group = try EventLoopGroup(threads: 1)
        let loop = group.loops[0]
        let connection = loop.register(fd: dup(0), handler: IdleHandler(), peer: "test")
        let loopMetrics = LoopMetrics()
        let subscribers = LoopSubscribers(metrics: loopMetrics)
        let both = RecordingSubscriber(connection: connection, topics: ["alerts", "rankings"])
        let alerts = RecordingSubscriber(connection: connection, topics: ["alerts"])
        for subscriber in [both, alerts] { subscribers.add(subscriber, topics: subscriber.topics) }
        let frame = ByteChunk([0x81, 0x01, 0x41])
        subscribers.deliver([EncodedEvent(test: 1, topic: "alerts", frame: frame)])
        #expect(loopMetrics.messagesSent == 2 && loopMetrics.bytesSent == 6)
        subscribers.deliver([EncodedEvent(test: 2, topic: "alerts", frame: frame), EncodedEvent(test: 3, topic: "alerts", frame: frame)])
        #expect(loopMetrics.messagesSent == 6 && loopMetrics.bytesSent == 18)
        subscribers.deliver([EncodedEvent(test: 4, topic: "alerts", frame: frame), EncodedEvent(test: 5, topic: "rankings", frame: frame)])
        #expect(loopMetrics.messagesSent == 9 && loopMetrics.bytesSent == 27)
        subscribers.remove(both, topics: both.topics)
        subscribers.remove(alerts, topics: alerts.topics)
    }
}
