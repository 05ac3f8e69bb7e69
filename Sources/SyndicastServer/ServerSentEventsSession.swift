import Broker
import Reactor

/// `GET /events`: the event stream as Server-Sent Events. After the response head the
/// connection only carries events; input from the client is ignored until it closes.
final class ServerSentEventsSession: ConnectionHandler, StreamSubscriber {
    let connection: Connection
    private let context: ServerContext
    var subscriptions: TopicSubscriptions
    var registration = StreamRegistration()
    var counters: StreamCounters { context.counters }
    var loopSubscribers: LoopSubscribers { context.loops.state(of: connection.loop).subscribers }
    let usesSharedDeflate = false
    let isServerSentEvents = true
    /// What the stream token allows (`--stream-token-secret`); nil without a secret.
    let grant: StreamGrant?

    init(connection: Connection, context: ServerContext, topics: Set<String>, grant: StreamGrant? = nil) {
        self.connection = connection
        self.context = context
        self.subscriptions = TopicSubscriptions(topics)
        self.grant = grant
    }

    private var keepaliveMilliseconds: Int64 { Int64(context.configuration.pingIntervalSeconds) * 1_000 }

    /// Writes the response head and asks the broker for hello and snapshot or replay.
    func start(since: UInt64?, epoch: String?) {
        connection.write(ServerSentEvents.responseHead(date: context.loops.state(of: connection.loop).dateHeader()))
        connection.setDeadline(min(connection.loop.now + keepaliveMilliseconds, tokenDeadline))
        declareInterest()
        requestStart(from: context.broker, since: since, epoch: epoch) { $0.subscriptionStarted($1) }
    }

    private func subscriptionStarted(_ start: SubscriptionStart) {
        guard connection.isOpen else { return }
        let epoch = context.broker.epoch
        for (position, message) in start.messages.enumerated() {
            // hello carries no id (replayed events may follow it); a snapshot and each replayed
            // event carry `<epoch>-<seq>`, so a reconnect's Last-Event-ID resumes exactly after
            // them, and only within the history they belong to.
            let id = position == 0 ? nil : Self.sequence(of: message).map { ServerSentEvents.eventID(epoch: epoch, seq: $0) }
            connection.write(ServerSentEvents.record(id: id, json: message))
        }
        joinLoopLists()
    }

    /// Reads `"seq":N` from a replayed event's JSON (it is always the second field).
    private static func sequence(of json: [UInt8]) -> UInt64? {
        let marker = Array("\"seq\":".utf8)
        guard json.count > marker.count else { return nil }
        var index = 0
        while index + marker.count <= json.count {
            if json[index] == marker[0] && Array(json[index..<(index + marker.count)]) == marker {
                var value: UInt64 = 0
                var cursor = index + marker.count
                while cursor < json.count, json[cursor] >= 0x30, json[cursor] <= 0x39 {
                    value = value &* 10 &+ UInt64(json[cursor] - 0x30)
                    cursor += 1
                }
                return value
            }
            index += 1
        }
        return nil
    }

    func enqueue(_ event: EncodedEvent) {
        // Built whenever an SSE subscriber exists; a batch encoded just before this stream
        // subscribed may lack it, so fall back to encoding here.
        connection.write(
            event.serverSentEvent
                ?? ByteChunk(EncodedEvent.serverSentRecord(seq: event.seq, epoch: context.broker.epoch, json: event.json)))
        if connection.pendingOutboundBytes > context.configuration.outboundLimit {
            context.metrics.slowConsumersClosed.add(1, ordering: .relaxed)
            leaveStream()
            connection.close(abort: true)
        }
    }

    func enqueue(contentsOf events: [EncodedEvent], frames: [ByteChunk]) {
        for event in events { enqueue(event) }
    }

    func connectionReceived(_ connection: Connection, _ bytes: UnsafeRawBufferPointer) -> Int {
        bytes.count
    }

    /// Writes a keepalive comment after each quiet interval; ends the response once the stream
    /// token has expired (an `EventSource` then reconnects with the same URL and gets 401).
    func connectionDeadlinePassed(_ connection: Connection, now: Int64) {
        if now >= tokenDeadline {
            connection.write(Self.tokenExpiredComment)
            leaveStream()
            connection.close()
            return
        }
        connection.write(ServerSentEvents.keepalive)
        connection.setDeadline(min(now + keepaliveMilliseconds, tokenDeadline))
    }

    /// Monotonic milliseconds at which the token expires and the response ends; `Int64.max`
    /// without a token. Derived from the grant's wall-clock `exp` when asked, not stored (8 bytes
    /// on every idle connection).
    private var tokenDeadline: Int64 {
        guard let grant else { return .max }
        return connection.loop.now + grant.millisecondsLeft(now: StreamTokenVerifier.wallClockSeconds())
    }

    /// The comment line (ignored by `EventSource`, WHATWG HTML §9.2.6) written before the
    /// response ends at the token's expiry, so a person reading with `curl -N` sees why.
    static let tokenExpiredComment: [UInt8] = Array(": stream token expired\n\n".utf8)

    func connectionClosed(_ connection: Connection) {
        leaveStream()
    }

    /// Graceful shutdown: end the response; EventSource clients reconnect with Last-Event-ID.
    func beginShutdown() {
        leaveStream()
        connection.close()
    }
}
