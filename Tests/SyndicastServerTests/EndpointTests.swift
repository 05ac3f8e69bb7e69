import Broker
import HTTP1
import Monitor
import Testing

@testable import SyndicastServer

/// Every status the HTTP API answers, asked of the endpoints in process (no socket, no binary),
/// with the exact error bytes clients parse.
@Suite("Endpoints: every status, in process")
struct EndpointTests {
    @Test("200: /healthz, /readyz and the queries")
    func okPaths() async {
        let api = InProcessAPI()
        let health = await api.send("GET", "/healthz")
        #expect(health.status == 200 && health.text == #"{"status":"ok"}"#)
        let ready = await api.send("GET", "/readyz")
        #expect(ready.status == 200 && ready.text == #"{"status":"ready"}"#)
        let rankings = await api.send("GET", "/api/rankings?limit=3")
        #expect(rankings.status == 200 && rankings.text == #"{"seq":0,"top":[]}"#)
        let stats = await api.send("GET", "/api/stats")
        #expect(
            stats.status == 200
                && stats.text.hasSuffix(
                    #","rules":{"amountThreshold":"10000.00","spikeWindowSeconds":3600,"spikeThreshold":100,"topK":5}}"#)
        )
        let metrics = await api.send("GET", "/metrics")
        #expect(metrics.status == 200 && metrics.text.contains("syndicast_http_requests_total"))
    }

    @Test("201: ingest answers the counts and sequence numbers; a re-sent id is a duplicate")
    func ingestAccepted() async {
        let api = InProcessAPI()
        let body = "[" + transactionJSON("t1") + "," + transactionJSON("t2", investor: "i2") + "]"
        let first = await api.send("POST", "/api/transactions", headers: jsonBody, body: body)
        #expect(first.status == 201)
        #expect(first.text == #"{"accepted":2,"duplicates":0,"firstSeq":1,"lastSeq":2}"#)
        let again = await api.send(
            "POST", "/api/transactions", headers: [("Content-Type", "application/x-ndjson")], body: transactionJSON("t1"))
        #expect(again.text == #"{"accepted":0,"duplicates":1,"firstSeq":null,"lastSeq":null}"#)
        #expect(api.journal.count == 1)
        #expect(api.context.inFlightTransactions.load(ordering: .relaxed) == 0, "admission released")
        let investor = await api.send("GET", "/api/investors/i2")
        #expect(investor.status == 200 && investor.text.contains(#""investorId":"i2""#))
    }

    @Test("201: publish answers the topic and sequence number")
    func publishAccepted() async {
        let api = InProcessAPI()
        let answer = await api.send("POST", "/api/publish", headers: jsonBody, body: #"{"topic":"orders","data":{"n":1}}"#)
        #expect(answer.status == 201 && answer.text == #"{"topic":"orders","seq":1}"#)
    }

    @Test("101: a WebSocket handshake on /ws becomes an upgrade with the default topics")
    func webSocketUpgrade() async {
        let api = InProcessAPI()
        let answer = await api.send(
            "GET", "/ws?since=4&epoch=e1",
            headers: [
                ("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Version", "13"),
                ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ])
        guard case .webSocket(let upgrade) = answer else {
            Issue.record("expected an upgrade, got \(answer.status) \(answer.text)")
            return
        }
        #expect(upgrade.kind == .stream)
        #expect(upgrade.stream == StreamParameters(topics: Topic.defaults, since: 4, epoch: "e1"))
        #expect(upgrade.accepted.acceptValue == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    @Test("400: bad JSON, an empty batch, bad parameters, a bad publish body")
    func badRequests() async {
        let api = InProcessAPI()
        let malformed = await api.send("POST", "/api/transactions", headers: jsonBody, body: "[{")
        #expect(malformed.status == 400 && malformed.text.hasPrefix(#"{"error":{"code":"invalid_json","message":"#))
        let empty = await api.send("POST", "/api/transactions", headers: jsonBody, body: "[]")
        #expect(empty.status == 400)
        #expect(empty.text == #"{"error":{"code":"invalid_fields","message":"the body holds no transaction"}}"#)
        let negative = await api.send("POST", "/api/transactions", headers: jsonBody, body: "[" + transactionJSON("n", amount: "-1") + "]")
        #expect(negative.status == 400)
        #expect(negative.text.hasPrefix(#"{"error":{"code":"invalid_fields","message":"#))
        #expect(negative.text.hasSuffix(#","details":[{"index":0,"field":"amount","reason":"must be greater than 0"}]}}"#))
        let ndjson = await api.send(
            "POST", "/api/transactions", headers: [("Content-Type", "application/x-ndjson")],
            body: #"{"investorId":"i","syndicateId":"s","amount":0}"# + "\n")
        #expect(ndjson.status == 400)
        #expect(
            ndjson.text
                == #"{"error":{"code":"invalid_fields","message":"1 of 1 transactions are invalid (1 problems); nothing was accepted.","details":[{"index":0,"line":1,"field":"amount","reason":"must be greater than 0"}]}}"#
        )
        let limit = await api.send("GET", "/api/alerts?limit=0")
        #expect(limit.status == 400)
        #expect(limit.text == #"{"error":{"code":"invalid_limit","message":"limit must be an integer from 1 to 1000"}}"#)
        let topic = await api.send("GET", "/events?topics=a%20b")
        #expect(topic.status == 400 && topic.text.hasPrefix(#"{"error":{"code":"invalid_topic","#))
        let since = await api.send("GET", "/events?since=x")
        #expect(since.text == #"{"error":{"code":"invalid_since","message":"since must be a sequence number"}}"#)
        let publish = await api.send("POST", "/api/publish", headers: jsonBody, body: #"{"topic":"orders"}"#)
        #expect(publish.status == 400)
        #expect(publish.text == #"{"error":{"code":"invalid_fields","message":"missing field \"data\""}}"#)
    }

    @Test("401: a write without an accepted key, with WWW-Authenticate")
    func unauthorized() async {
        let api = InProcessAPI { $0.apiKeys = ["secret-key"] }
        let refused = await api.send("POST", "/api/transactions", headers: jsonBody + [("Authorization", "Bearer wrong")], body: "[]")
        #expect(refused.status == 401 && refused.header("WWW-Authenticate") == "Bearer")
        #expect(refused.text == #"{"error":{"code":"unauthorized","message":"a valid Authorization: Bearer key is required"}}"#)
        let allowed = await api.send(
            "POST", "/api/transactions", headers: jsonBody + [("Authorization", "Bearer secret-key")],
            body: "[" + transactionJSON("k") + "]")
        #expect(allowed.status == 201)
    }

    @Test("403: a write or a stream from a foreign Origin")
    func foreignOrigin() async {
        let api = InProcessAPI()
        for (method, target) in [("POST", "/api/publish"), ("GET", "/ws")] {
            let refused = await api.send(method, target, headers: jsonBody + [("Origin", "http://evil.example")], body: "{}")
            #expect(refused.status == 403, "\(target)")
            #expect(refused.text == #"{"error":{"code":"origin_not_allowed","message":"requests from this Origin are not allowed"}}"#)
        }
    }

    @Test("404: an unknown investor and a missing static file")
    func notFound() async {
        let api = InProcessAPI()
        let investor = await api.send("GET", "/api/investors/nobody")
        #expect(investor.status == 404 && investor.text == #"{"error":{"code":"not_found","message":"no investor nobody"}}"#)
        let file = await api.send("GET", "/nothing.html")
        #expect(file.status == 404 && file.text == #"{"error":{"code":"not_found","message":"no such resource: /nothing.html"}}"#)
    }

    @Test("405: a method the path does not allow, with Allow")
    func methodNotAllowed() async {
        let api = InProcessAPI()
        let answer = await api.send("PUT", "/api/rankings")
        #expect(answer.status == 405 && answer.header("Allow") == "GET, HEAD")
        #expect(answer.text == #"{"error":{"code":"method_not_allowed","message":"PUT is not allowed on /api/rankings"}}"#)
        let unknownPath = await api.send("DELETE", "/nothing")
        #expect(unknownPath.status == 405 && unknownPath.header("Allow") == "GET, HEAD")
    }

    @Test("409: an id reused with different content, nothing stored")
    func idConflict() async {
        let api = InProcessAPI()
        _ = await api.send("POST", "/api/transactions", headers: jsonBody, body: "[" + transactionJSON("t1") + "]")
        let body = "[" + transactionJSON("t2") + "," + transactionJSON("t1", amount: "99.00") + "]"
        let conflict = await api.send("POST", "/api/transactions", headers: jsonBody, body: body)
        #expect(conflict.status == 409)
        #expect(
            conflict.text
                == #"{"error":{"code":"conflict","message":"a transaction id was reused with different content; nothing was accepted","details":[{"index":1,"field":"id","reason":"id \"t1\" was already used with different content"}]}}"#
        )
        #expect(api.journal.count == 1)
        #expect(api.context.metrics.ingestRejected.load(ordering: .relaxed) == 1)
    }

    @Test("413: a batch past the decoder's limit and publish data past 60 KiB")
    func tooLarge() async {
        let api = InProcessAPI { $0.transactionLimits.maximumTransactions = 1 }
        let batch = "[" + transactionJSON("a") + "," + transactionJSON("b") + "]"
        let refused = await api.send("POST", "/api/transactions", headers: jsonBody, body: batch)
        #expect(refused.status == 413 && refused.text.hasPrefix(#"{"error":{"code":"payload_too_large","message":"#))
        let data = String(repeating: "x", count: PublishRequest.maximumDataBytes)
        let publish = await api.send("POST", "/api/publish", headers: jsonBody, body: #"{"topic":"orders","data":"\#(data)"}"#)
        #expect(publish.status == 413)
        #expect(publish.text == #"{"error":{"code":"payload_too_large","message":"data is larger than 61440 bytes"}}"#)
    }

    @Test("415: a body type ingest or publish does not take")
    func unsupportedMediaType() async {
        let api = InProcessAPI()
        let ingest = await api.send("POST", "/api/transactions", headers: [("Content-Type", "text/plain")], body: "[]")
        #expect(ingest.status == 415)
        #expect(
            ingest.text
                == #"{"error":{"code":"unsupported_media_type","message":"Content-Type text/plain is not accepted; use application/json or application/x-ndjson"}}"#
        )
        let publish = await api.send("POST", "/api/publish", body: "{}")
        #expect(
            publish.text
                == #"{"error":{"code":"unsupported_media_type","message":"Content-Type (none) is not accepted; use application/json"}}"#)
    }

    @Test("429: ingest refuses past the in-flight bound, with Retry-After, and releases what it counted")
    func overloaded() async {
        let api = InProcessAPI()
        api.context.inFlightTransactions.store(Endpoints.maximumInFlightTransactions, ordering: .relaxed)
        let answer = await api.send("POST", "/api/transactions", headers: jsonBody, body: "[" + transactionJSON("o") + "]")
        #expect(answer.status == 429 && answer.header("Retry-After") == "1")
        #expect(answer.text == #"{"error":{"code":"overloaded","message":"ingest is saturated; retry shortly"}}"#)
        #expect(api.context.inFlightTransactions.load(ordering: .relaxed) == Endpoints.maximumInFlightTransactions)
    }

    @Test("503: stopping, starting, and ingest stopped by a journal failure")
    func unavailable() async {
        let api = InProcessAPI()
        api.context.lifecycle.ready.store(false, ordering: .relaxed)
        let starting = await api.send("GET", "/readyz")
        #expect(starting.status == 503 && starting.text == #"{"error":{"code":"starting","message":"the journal is being replayed"}}"#)
        api.context.lifecycle.ready.store(true, ordering: .relaxed)

        await api.context.broker.stopIngest("disk full")
        let ingest = await api.send("POST", "/api/transactions", headers: jsonBody, body: "[" + transactionJSON("u") + "]")
        #expect(ingest.status == 503 && ingest.header("Retry-After") == "5")
        #expect(ingest.text == #"{"error":{"code":"unavailable","message":"disk full"}}"#)
        let failed = await api.send("GET", "/readyz")
        #expect(failed.text == #"{"error":{"code":"journal_failed","message":"disk full"}}"#)

        api.shutdown.set()
        let stopping = await api.send("POST", "/api/publish", headers: jsonBody, body: "{}")
        #expect(stopping.status == 503)
        #expect(stopping.text == #"{"error":{"code":"shutting_down","message":"the server is stopping; retry on another instance"}}"#)
    }

    @Test("421, 426 and 501: a foreign Host, a plain GET on /ws, an unknown method")
    func otherRefusals() async {
        let api = InProcessAPI()
        let host = await api.send("GET", "/healthz", headers: [("Host", "evil.example")])
        #expect(host.status == 421)
        let plain = await api.send("GET", "/ws")
        #expect(plain.status == 426 && plain.header("Upgrade") == "websocket")
        let method = await api.send("BREW", "/healthz")
        #expect(method.status == 501)
        #expect(method.text == #"{"error":{"code":"not_implemented","message":"method BREW is not implemented"}}"#)
    }
}
