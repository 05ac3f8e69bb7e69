import Reactor
import WebSocket

/// One WebSocket connection after the handshake: drives the sans-I/O `WebSocketConnection` and
/// acts on its events — echo, or the event stream's client operations.
final class WebSocketSession: ConnectionHandler {
    enum Kind {
        /// `/echo`: every data message comes back with the same opcode (conformance testing).
        case echo
        /// `/ws`: the event stream.
        case stream
    }

    let kind: Kind
    private let context: ServerContext
    private var protocolState: WebSocketConnection
    /// Pings sent since the last pong (or any data) arrived; two unanswered close the peer.
    private var unansweredPings = 0
    private let topics: [String]

    init(kind: Kind, context: ServerContext, options: WebSocketOptions, deflate: DeflateParameters?, query: [(name: String, value: String)]) {
        self.kind = kind
        self.context = context
        self.protocolState = WebSocketConnection(role: .server, options: options, deflate: deflate)
        let requested = query.first { $0.name == "topics" }?.value
        self.topics =
            requested.map { $0.split(separator: ",").map { String($0) }.filter { !$0.isEmpty } } ?? ["alerts", "rankings"]
    }

    private var pingIntervalMilliseconds: Int64 { Int64(context.configuration.pingIntervalSeconds) * 1_000 }

    /// Called right after the 101 response is queued.
    func start(on connection: Connection) {
        connection.setDeadline(connection.loop.now + pingIntervalMilliseconds)
        if kind == .stream {
            let topicList = topics.map { "\"\(JSONText.escape($0))\"" }.joined(separator: ",")
            sendText(#"{"type":"hello","epoch":"\#(context.epoch)","seq":0,"topics":[\#(topicList)]}"#, on: connection)
        }
    }

    func connectionReceived(_ connection: Connection, _ bytes: UnsafeRawBufferPointer) -> Int {
        // Collect first, act after: acting may re-enter `protocolState` (encoding a reply).
        var events: [WebSocketEvent] = []
        let consumed = protocolState.receive(bytes) { events.append($0) }
        if !events.isEmpty {
            unansweredPings = 0
            connection.setDeadline(connection.loop.now + pingIntervalMilliseconds)
        }
        for event in events {
            act(on: event, connection)
        }
        return consumed
    }

    private func act(on event: WebSocketEvent, _ connection: Connection) {
        switch event {
        case .text(let message):
            if kind == .echo {
                send(.text, message, on: connection)
            } else {
                handleClientOperation(message, on: connection)
            }
        case .binary(let message):
            if kind == .echo {
                send(.binary, message, on: connection)
            } else {
                sendError("unsupported_data", "binary messages are not understood here", on: connection)
            }
        case .ping, .pong:
            break
        case .send(let bytes):
            connection.write(bytes)
        case .closeTransport:
            connection.close()
        }
    }

    func connectionReadEnded(_ connection: Connection) {
        connection.close(abort: true)
    }

    /// Keepalive (DESIGN.md §3): ping after each quiet interval; two unanswered pings close.
    func connectionDeadlinePassed(_ connection: Connection, now: Int64) {
        if protocolState.state != .open || unansweredPings >= 2 {
            connection.close(abort: true)
            return
        }
        unansweredPings += 1
        connection.write(WebSocketFrameEncoder.encode(.ping, payload: UnsafeRawBufferPointer(start: nil, count: 0)))
        connection.setDeadline(now + pingIntervalMilliseconds)
    }

    /// Graceful shutdown: close with 1001 (going away); the peer's close reply ends the connection.
    func beginShutdown(_ connection: Connection) {
        if let frame = protocolState.close(code: .goingAway, reason: "server shutting down") {
            connection.write(frame)
        }
        connection.setDeadline(connection.loop.now + Int64(context.configuration.shutdownGraceSeconds) * 1_000)
        unansweredPings = 2
    }

    private func handleClientOperation(_ message: [UInt8], on connection: Connection) {
        switch ClientOperation.parse(message) {
        case .ping:
            sendText(#"{"type":"pong"}"#, on: connection)
        case .subscribe, .unsubscribe:
            sendError("not_available", "subscriptions arrive with the event stream", on: connection)
        case .invalid(let reason):
            sendError("bad_request", reason, on: connection)
        }
    }

    private func sendError(_ code: String, _ message: String, on connection: Connection) {
        sendText(#"{"type":"error","code":"\#(code)","message":"\#(JSONText.escape(message))"}"#, on: connection)
    }

    private func sendText(_ text: String, on connection: Connection) {
        send(.text, Array(text.utf8), on: connection)
    }

    private func send(_ opcode: WebSocketOpcode, _ payload: [UInt8], on connection: Connection) {
        guard protocolState.state == .open else { return }
        let frame = payload.withUnsafeBytes { protocolState.encodeMessage(opcode, $0) }
        connection.write(frame)
    }
}
