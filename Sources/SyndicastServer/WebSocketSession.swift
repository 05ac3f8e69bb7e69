import Broker
import Reactor
import WebSocket

/// One WebSocket connection after the handshake: drives the sans-I/O `WebSocketConnection` and
/// acts on its events — echo (`/echo`), or the event stream's client operations (`/ws`).
final class WebSocketSession: ConnectionHandler, StreamSubscriber {
    enum Kind {
        /// `/echo`: every data message comes back with the same opcode (conformance testing).
        case echo
        /// `/ws`: the event stream.
        case stream
        /// `/broadcast`: the benchmark contract (see `BroadcastHub`).
        case broadcast
    }

    let kind: Kind
    let connection: Connection
    /// Most topics one connection may subscribe to.
    static let maximumTopics = 64
    private let context: ServerContext
    private var protocolState: WebSocketConnection
    /// Pings sent since the peer was last heard from; two unanswered close it.
    private var unansweredPings = 0
    var subscriptions: TopicSubscriptions
    var registration = StreamRegistration()
    var counters: StreamCounters { context.counters }
    var loopSubscribers: LoopSubscribers { context.loops.state(of: connection.loop).subscribers }
    let isServerSentEvents = false
    /// True while acting on the events of one `receive`: they are in wire order, so a message
    /// parsed before a close or a protocol error is still answered before that close goes out.
    private var actingOnReceivedEvents = false
    /// Takes the shared deflated frame: deflate was negotiated, and the stream's options
    /// (`acceptsLimitedServerWindow` false) admit only clients that accept its 15-bit window.
    /// `/echo`, which may honour a smaller window, never receives events.
    let usesSharedDeflate: Bool
    /// What the connection's stream token allows (`--stream-token-secret`); nil without a secret.
    private(set) var grant: StreamGrant?

    init(
        kind: Kind, connection: Connection, context: ServerContext, options: WebSocketOptions, deflate: DeflateParameters?,
        topics: Set<String>, grant: StreamGrant? = nil
    ) {
        self.kind = kind
        self.connection = connection
        self.context = context
        self.protocolState = WebSocketConnection(role: .server, options: options, deflate: deflate)
        self.subscriptions = TopicSubscriptions(topics)
        self.usesSharedDeflate = deflate != nil
        self.grant = grant
    }

    private var pingIntervalMilliseconds: Int64 { Int64(context.configuration.pingIntervalSeconds) * 1_000 }

    /// Called right after the 101 response is queued: for `/ws`, asks the broker for hello and a
    /// snapshot or replay; live events follow once that answer has been written.
    func start(since: UInt64?, epoch: String?) {
        armDeadline(pingAt: connection.loop.now + pingIntervalMilliseconds)
        guard kind != .echo else { return }
        declareInterest()
        if kind == .broadcast {
            joinLoopLists()
            return
        }
        requestStart(from: context.broker, since: since, epoch: epoch) { $0.subscriptionStarted($1) }
    }

    private func subscriptionStarted(_ start: SubscriptionStart) {
        guard connection.isOpen, protocolState.state == .open else { return }
        for message in start.messages {
            send(.text, message)
        }
        joinLoopLists()
    }

    func enqueue(_ event: EncodedEvent) {
        guard protocolState.state == .open else { return }
        connection.write(frame(for: event))
        closeIfOverOutboundLimit()
    }

    func enqueue(contentsOf events: [EncodedEvent], frames: [ByteChunk]) {
        guard protocolState.state == .open else { return }
        connection.write(contentsOf: usesSharedDeflate ? events.map(frame(for:)) : frames)
        closeIfOverOutboundLimit()
    }

    /// The shared frame this subscriber takes. A batch encoded before the first deflate
    /// subscriber joined has no deflated frame; this one connection then compresses its own.
    private func frame(for event: EncodedEvent) -> ByteChunk {
        guard usesSharedDeflate else { return event.webSocketFrame }
        if let shared = event.deflatedFrame { return shared }
        return ByteChunk(event.json.withUnsafeBytes { protocolState.encodeMessage(.text, $0) })
    }

    /// Closes with 4008 a subscriber whose queue has grown past `--outbound-limit`.
    private func closeIfOverOutboundLimit() {
        if connection.pendingOutboundBytes > context.configuration.outboundLimit {
            context.metrics.slowConsumersClosed.add(1, ordering: .relaxed)
            closeStream(code: .slowConsumer, reason: "slow consumer: outbound queue over limit")
        }
    }

    func connectionReceived(_ connection: Connection, _ bytes: UnsafeRawBufferPointer) -> Int {
        // Collect first, act after: acting may re-enter `protocolState` (encoding a reply).
        var events: [WebSocketEvent] = []
        let consumed = protocolState.receive(bytes) { events.append($0) }
        if !events.isEmpty {
            unansweredPings = 0
            armDeadline(pingAt: connection.loop.now + pingIntervalMilliseconds)
        }
        var broadcasts: [[UInt8]] = []
        actingOnReceivedEvents = true
        defer { actingOnReceivedEvents = false }
        for event in events {
            if kind == .broadcast, case .text(let message) = event {
                broadcasts.append(message)
            } else {
                act(on: event)
            }
        }
        BroadcastHub.broadcast(broadcasts, from: connection.loop, loops: context.loops)
        return consumed
    }

    private func act(on event: WebSocketEvent) {
        switch event {
        case .text(let message):
            switch kind {
            case .echo: send(.text, message)
            case .stream: handleClientOperation(message)
            case .broadcast: break
            }
        case .binary(let message):
            if kind == .echo {
                send(.binary, message)
            } else {
                sendError("unsupported_data", "binary messages are not understood here")
            }
        case .ping, .pong:
            break
        case .send(let bytes):
            connection.write(bytes)
        case .closeTransport:
            leaveStream()
            connection.close()
        }
    }

    func connectionReadEnded(_ connection: Connection) {
        connection.close(abort: true)
    }

    func connectionClosed(_ connection: Connection) {
        leaveStream()
    }

    /// Keepalive (DESIGN.md §3): ping after each quiet interval; two unanswered pings close.
    /// A stream token that has expired closes the stream with 1008 instead.
    func connectionDeadlinePassed(_ connection: Connection, now: Int64) {
        if protocolState.state != .open || unansweredPings >= 2 {
            connection.close(abort: true)
            return
        }
        let tokenLeft = tokenDeadline - now
        if tokenLeft <= 0 {
            grant = nil
            // RFC 6455 §7.4.1: 1008 "indicates that an endpoint is terminating the connection
            // because it has received a message that violates its policy".
            closeStream(code: .policyViolation, reason: "stream token expired")
            connection.setDeadline(now + Self.closeReplyMilliseconds)
            return
        }
        if tokenLeft < Self.expirySlackMilliseconds {
            // The deadline was the token's, read again a moment before the wall clock reached
            // `exp`: wait for the expiry rather than count a ping that was not due.
            connection.setDeadline(now + tokenLeft)
            return
        }
        unansweredPings += 1
        connection.write(WebSocketFrameEncoder.encode(.ping, payload: UnsafeRawBufferPointer(start: nil, count: 0)))
        armDeadline(pingAt: now + pingIntervalMilliseconds)
    }

    /// How long the peer has to answer our close frame before the socket is closed anyway.
    static let closeReplyMilliseconds: Int64 = 5_000
    /// A deadline that passes with less than this left on the token is taken as the token's.
    static let expirySlackMilliseconds: Int64 = 1_000

    /// Sets the connection's one deadline to the next ping or the token's expiry, whichever comes first.
    private func armDeadline(pingAt: Int64) {
        connection.setDeadline(min(pingAt, tokenDeadline))
    }

    /// Monotonic milliseconds at which the token expires and the stream closes with 1008;
    /// `Int64.max` without a token. Derived from the grant's wall-clock `exp` when asked (on input
    /// and at deadlines) rather than stored: every idle connection would carry 8 more bytes.
    private var tokenDeadline: Int64 {
        guard let grant else { return .max }
        return connection.loop.now + grant.millisecondsLeft(now: StreamTokenVerifier.wallClockSeconds())
    }

    /// Graceful shutdown: close with 1001 (going away); the peer's close reply ends the connection.
    func beginShutdown() {
        closeStream(code: .goingAway, reason: "server shutting down")
        connection.setDeadline(connection.loop.now + Int64(context.configuration.shutdownGraceSeconds) * 1_000)
    }

    private func closeStream(code: WebSocketCloseCode, reason: String) {
        leaveStream()
        if let frame = protocolState.close(code: code, reason: reason) {
            connection.write(frame)
        }
        unansweredPings = 2
        if code == .slowConsumer {
            connection.close()
        }
    }

    private func handleClientOperation(_ message: [UInt8]) {
        switch ClientOperation.parse(message) {
        case .ping:
            send(.text, Array(#"{"type":"pong"}"#.utf8))
        case .subscribe(let requested):
            if let bad = requested.first(where: { !Topic.reserved.contains($0) && !Topic.isValidCustom($0) }) {
                sendError("invalid_topic", "not a topic name: \(bad)")
                return
            }
            if let refused = grant?.firstRefused(requested) {
                sendError("topic_not_allowed", "the stream token does not allow topic \(refused)")
                return
            }
            let added = Set(requested).filter { !subscriptions.contains($0) }
            if subscriptions.count + added.count > Self.maximumTopics {
                sendError("too_many_topics", "at most \(Self.maximumTopics) topics per connection")
                return
            }
            addTopics(added)
            send(.text, StreamMessages.subscribed(Set(subscriptions.names)))
        case .unsubscribe(let requested):
            let removed = Set(requested).filter { subscriptions.contains($0) }
            removeTopics(removed)
            send(.text, StreamMessages.subscribed(Set(subscriptions.names)))
        case .authenticate(let token):
            authenticate(token)
        case .invalid(let reason):
            sendError("bad_request", reason)
        }
    }

    /// `{"op":"auth","token":"…"}`: a valid token replaces the connection's grant (its expiry and
    /// its topics claim; topics the new claim leaves out are unsubscribed). An invalid one is
    /// answered with an error and changes nothing: the stream still closes at the old expiry.
    private func authenticate(_ token: String) {
        guard let secret = context.configuration.streamTokenSecret, grant != nil else {
            sendError("bad_request", "this stream takes no token (the server has no --stream-token-secret)")
            return
        }
        switch StreamTokenVerifier(secret: secret).verify(token, now: StreamTokenVerifier.wallClockSeconds()) {
        case .failure(let failure):
            sendError("invalid_token", failure.message)
        case .success(let renewed):
            grant = renewed
            // The op itself was input: the next ping is due a full interval from now.
            armDeadline(pingAt: connection.loop.now + pingIntervalMilliseconds)
            let dropped = Set(subscriptions.names.filter { !renewed.allows($0) })
            if !dropped.isEmpty { removeTopics(dropped) }
            send(.text, StreamMessages.authenticated(renewed, topics: Set(subscriptions.names)))
        }
    }

    private func sendError(_ code: String, _ message: String) {
        send(.text, StreamMessages.error(code: code, message: message))
    }

    private func send(_ opcode: WebSocketOpcode, _ payload: [UInt8]) {
        guard protocolState.state == .open || actingOnReceivedEvents else { return }
        let frame = payload.withUnsafeBytes { protocolState.encodeMessage(opcode, $0) }
        connection.write(frame)
    }
}
