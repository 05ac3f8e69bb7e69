import Broker
import HTTP1
import WebSocket

extension Endpoints {
    /// RFC 6455 §4.2.2: checks the opening handshake of `/ws`, `/echo` or `/broadcast`; the driver
    /// writes the 101 response and hands the connection to a ``WebSocketSession``.
    func webSocket(_ head: HTTPRequestHead, kind: WebSocketSession.Kind, options: WebSocketOptions) -> EndpointReply {
        if context.lifecycle.shutdown.isSet { return .failure(.shuttingDown, closes: true) }
        guard head.isUpgradeRequest else { return .failure(.upgradeRequired) }
        var stream = StreamParameters(topics: [], since: nil, epoch: nil)
        switch kind {
        case .stream:
            switch authorizedStreamParameters(head) {
            case .success(let parameters): stream = parameters
            case .failure(let error): return .failure(error)
            }
        case .broadcast:
            stream.topics = [BroadcastHub.topic]
        case .echo:
            break
        }
        let pairs = head.headers.pairs.map { (name: $0.name, value: $0.value) }
        switch WebSocketHandshake.negotiate(method: head.method, versionMinor: head.version.minor, headers: pairs, options: options) {
        case .failure(let failure):
            return .failure(.badHandshake(status: failure.status, message: failure.message, headers: failure.headers))
        case .success(let accepted):
            return .webSocket(WebSocketUpgrade(kind: kind, options: options, accepted: accepted, stream: stream))
        }
    }

    /// `GET /events`: checks the subscription; the driver hands the connection to a
    /// ``ServerSentEventsSession``.
    func serverSentEvents(_ head: HTTPRequestHead) -> EndpointReply {
        if context.lifecycle.shutdown.isSet { return .failure(.shuttingDown, closes: true) }
        switch authorizedStreamParameters(head) {
        case .failure(let error): return .failure(error)
        case .success(let parameters): return .serverSentEvents(parameters)
        }
    }

    /// The subscription of `/ws` or `/events`, with the grant of its token when
    /// `--stream-token-secret` is set: a missing or invalid token is refused with 401 before the
    /// query is looked at, a topic outside the token's `topics` claim with 403.
    func authorizedStreamParameters(_ head: HTTPRequestHead) -> Result<StreamParameters, APIError> {
        guard let secret = context.configuration.streamTokenSecret else { return Self.streamParameters(head) }
        let result = grantedStreamParameters(head, secret: secret)
        if case .failure(let error) = result, error.status == 401 || error.status == 403 {
            context.metrics.streamTokenRefused.add(1, ordering: .relaxed)
        }
        return result
    }

    /// ``authorizedStreamParameters(_:)`` once a secret is set.
    private func grantedStreamParameters(_ head: HTTPRequestHead, secret: [UInt8]) -> Result<StreamParameters, APIError> {
        let grant: StreamGrant
        switch Self.presentedStreamToken(head) {
        case .failure(let error):
            return .failure(error)
        case .success(let token):
            switch StreamTokenVerifier(secret: secret).verify(token, now: StreamTokenVerifier.wallClockSeconds()) {
            case .failure(let failure): return .failure(.invalidStreamToken(failure.message))
            case .success(let verified): grant = verified
            }
        }
        var parameters: StreamParameters
        switch Self.streamParameters(head) {
        case .failure(let error): return .failure(error)
        case .success(let unchecked): parameters = unchecked
        }
        if head.queryItem("topics") == nil, let granted = grant.topics {
            // No `?topics=`: the token's topics are the subscription (the defaults may be
            // outside them).
            guard granted.count <= WebSocketSession.maximumTopics else {
                return .failure(.tooManyTopics(WebSocketSession.maximumTopics))
            }
            parameters.topics = granted
        } else if let refused = grant.firstRefused(parameters.topics) {
            return .failure(.topicNotGranted(refused))
        }
        parameters.grant = grant
        return .success(parameters)
    }

    /// The token a stream request carries: `?token=` (what a browser's `WebSocket` and
    /// `EventSource` can send) or `Authorization: Bearer` (RFC 6750 §2.1, §2.3).
    static func presentedStreamToken(_ head: HTTPRequestHead) -> Result<String, APIError> {
        let query = head.queryItem("token")
        var header: String?
        if let value = head.headers["Authorization"] {
            let text = value.trimmingSpaces()
            // RFC 9110 §11.1: the scheme is case-insensitive.
            guard text.count > 7, text.prefix(7).lowercased() == "bearer " else {
                return .failure(.invalidStreamToken("Authorization must be Bearer followed by the stream token"))
            }
            header = String(text.dropFirst(7)).trimmingSpaces()
        }
        switch (query, header) {
        case (nil, nil): return .failure(.streamTokenRequired)
        case (let token?, nil), (nil, let token?): return .success(token)
        // RFC 6750 §2: "Clients MUST NOT use more than one method to transmit the token in each request."
        case (_?, _?): return .failure(.invalidStreamToken("send the stream token once: ?token= or Authorization, not both"))
        }
    }

    /// The stream's subscription parameters from the query: `topics`, `since`, `epoch`.
    static func streamParameters(_ head: HTTPRequestHead) -> Result<StreamParameters, APIError> {
        var topics = Topic.defaults
        if let list = head.queryItem("topics") {
            let names = list.split(separator: ",").map { String($0).trimmingSpaces() }.filter { !$0.isEmpty }
            for name in names where !Topic.reserved.contains(name) && !Topic.isValidCustom(name) {
                return .failure(.invalidTopicName(name))
            }
            guard names.count <= WebSocketSession.maximumTopics else {
                return .failure(.tooManyTopics(WebSocketSession.maximumTopics))
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
            guard let value = UInt64(text.trimmingSpaces()) else { return .failure(.invalidSince) }
            since = value
            epoch = head.queryItem("epoch")
        }
        return .success(StreamParameters(topics: topics, since: since, epoch: epoch))
    }
}

extension String {
    /// The string without leading and trailing spaces and tabs.
    func trimmingSpaces() -> String {
        var text = Substring(self)
        while text.first == " " || text.first == "\t" { text = text.dropFirst() }
        while text.last == " " || text.last == "\t" { text = text.dropLast() }
        return String(text)
    }
}
