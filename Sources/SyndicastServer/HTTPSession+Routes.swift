import Broker
import Glibc
import HTTP1
import Monitor
import Reactor
import WebSocket

extension HTTPSession {
    func handle(_ route: Route, _ request: HTTPRequest, parameters: [String: String], on connection: Connection) {
        let head = request.head
        switch route {
        case .health:
            respond(.json(200, #"{"status":"ok"}"#), to: head, on: connection)
        case .ready:
            if context.shutdown.isSet {
                respond(.jsonError(status: 503, code: "shutting_down", message: "the server is stopping"), to: head, on: connection)
            } else if !context.ready.load(ordering: .relaxed) {
                respond(.jsonError(status: 503, code: "starting", message: "the journal is being replayed"), to: head, on: connection)
            } else if let failure = context.ingestFailure.withLock({ $0 }) {
                respond(.jsonError(status: 503, code: "journal_failed", message: failure), to: head, on: connection)
            } else {
                respond(.json(200, #"{"status":"ready"}"#), to: head, on: connection)
            }
        case .stream:
            upgrade(request, kind: .stream, options: context.streamOptions, on: connection)
        case .echo:
            upgrade(request, kind: .echo, options: context.echoOptions, on: connection)
        case .broadcast:
            upgrade(request, kind: .broadcast, options: context.broadcastOptions, on: connection)
        case .events where head.method == "HEAD":
            // The head a GET would get, without the stream (RFC 9110 §9.3.2).
            var response = HTTPResponse.text(200, "")
            response.headers = HTTPHeaders([("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache")])
            respond(response, to: head, on: connection)
        case .events:
            startServerSentEvents(head, on: connection)
        case .ingest:
            ingest(request, on: connection)
        case .publish:
            publish(request, on: connection)
        case .rankings, .alerts, .investor, .syndicate, .stats, .metrics:
            query(route, head, parameters: parameters, on: connection)
        }
    }

    /// The stream's subscription parameters from the query: `topics`, `since`, `epoch`.
    private func streamParameters(_ head: HTTPRequestHead) -> Result<(topics: Set<String>, since: UInt64?, epoch: String?), RequestRefusal>
    {
        var topics = Topic.defaults
        if let list = head.queryItem("topics") {
            let names = list.split(separator: ",").map { String($0).trimmingSpaces() }.filter { !$0.isEmpty }
            for name in names where !Topic.reserved.contains(name) && !Topic.isValidCustom(name) {
                return .failure(RequestRefusal(.jsonError(status: 400, code: "invalid_topic", message: "not a topic name: \(name)")))
            }
            guard names.count <= WebSocketSession.maximumTopics else {
                return .failure(
                    RequestRefusal(
                        .jsonError(status: 400, code: "too_many_topics", message: "at most \(WebSocketSession.maximumTopics) topics")))
            }
            topics = Set(names)
        }
        // A resume names its position and the epoch (history) it belongs to: `?since=N&epoch=E`,
        // or an EventSource reconnect's `Last-Event-ID: <epoch>-<seq>` (it resends the URL it
        // started with, so the header, being newer, wins). A resume without an epoch, or with an
        // id of another form, cannot be matched to this history: it keeps `epoch` nil, which the
        // broker answers with a snapshot `"recovered":false`.
        var since: UInt64?
        var epoch: String?
        if let lastEventID = head.headers["Last-Event-ID"]?.trimmingSpaces(), !lastEventID.isEmpty {
            let parsed = ServerSentEvents.parseEventID(lastEventID)
            since = parsed?.seq ?? 0
            epoch = parsed?.epoch
        } else if let text = head.queryItem("since") {
            guard let value = UInt64(text.trimmingSpaces()) else {
                return .failure(RequestRefusal(.jsonError(status: 400, code: "invalid_since", message: "since must be a sequence number")))
            }
            since = value
            epoch = head.queryItem("epoch")
        }
        return .success((topics, since, epoch))
    }

    /// RFC 6455 §4.2.2: answers the opening handshake and switches the connection to WebSocket.
    private func upgrade(_ request: HTTPRequest, kind: WebSocketSession.Kind, options: WebSocketOptions, on connection: Connection) {
        let head = request.head
        if context.shutdown.isSet {
            respond(
                .jsonError(status: 503, code: "shutting_down", message: "the server is stopping"), to: head, keepAlive: false,
                on: connection)
            return
        }
        guard head.isUpgradeRequest else {
            var response = HTTPResponse.jsonError(status: 426, code: "upgrade_required", message: "this endpoint speaks WebSocket only")
            response.headers.add("Upgrade", "websocket")
            respond(response, to: head, on: connection)
            return
        }
        var subscription: (topics: Set<String>, since: UInt64?, epoch: String?) = (kind == .broadcast ? [BroadcastHub.topic] : [], nil, nil)
        if kind == .stream {
            switch streamParameters(head) {
            case .success(let parameters): subscription = parameters
            case .failure(let refusal):
                respond(refusal.response, to: head, on: connection)
                return
            }
        }
        let pairs = head.headers.pairs.map { (name: $0.name, value: $0.value) }
        switch WebSocketHandshake.negotiate(method: head.method, versionMinor: head.version.minor, headers: pairs, options: options) {
        case .failure(let failure):
            var response = HTTPResponse.jsonError(status: failure.status, code: "bad_handshake", message: failure.message)
            for (name, value) in failure.headers { response.headers.add(name, value) }
            respond(response, to: head, on: connection)
        case .success(let accepted):
            connection.write(accepted.responseBytes())
            context.metrics.webSocketsOpened.add(1, ordering: .relaxed)
            let session = WebSocketSession(
                kind: kind, connection: connection, context: context, options: options, deflate: accepted.deflate,
                topics: subscription.topics)
            connection.handler = session
            session.start(since: subscription.since, epoch: subscription.epoch)
        }
    }

    private func startServerSentEvents(_ head: HTTPRequestHead, on connection: Connection) {
        if context.shutdown.isSet {
            respond(
                .jsonError(status: 503, code: "shutting_down", message: "the server is stopping"), to: head, keepAlive: false,
                on: connection)
            return
        }
        switch streamParameters(head) {
        case .failure(let refusal):
            respond(refusal.response, to: head, on: connection)
        case .success(let parameters):
            let session = ServerSentEventsSession(connection: connection, context: context, topics: parameters.topics)
            connection.handler = session
            session.start(since: parameters.since, epoch: parameters.epoch)
        }
    }
}

/// Wall-clock milliseconds since the epoch (the default transaction timestamp).
func wallClockMilliseconds() -> Int64 {
    var spec = timespec()
    clock_gettime(CLOCK_REALTIME, &spec)
    return Int64(spec.tv_sec) * 1_000 + Int64(spec.tv_nsec) / 1_000_000
}

/// A request refused before it is handled, carrying the response to send.
struct RequestRefusal: Error {
    let response: HTTPResponse
    init(_ response: HTTPResponse) { self.response = response }
}
