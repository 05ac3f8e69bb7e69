import Reactor
import WebSocket

/// What a `WebSocketClient` reports to the object that owns it (all calls on the loop's thread).
public protocol WebSocketClientDelegate: AnyObject {
    /// The server accepted the opening handshake.
    func webSocketOpened(_ client: WebSocketClient)
    /// A complete text or binary message arrived; the bytes are valid only during the call.
    func webSocketReceived(_ client: WebSocketClient, message: UnsafeRawBufferPointer)
    /// The connection is gone; `wasOpen` tells whether the handshake had completed, `reason` why.
    func webSocketClosed(_ client: WebSocketClient, wasOpen: Bool, reason: String)
}

/// One client WebSocket connection driven by an event loop: sends the RFC 6455 §4.1 handshake,
/// validates the answer, then feeds frames through `WebSocketConnection(role: .client)`.
///
/// Kept small, since a load test holds tens of thousands: the per-subscriber counter window lives
/// here rather than in a side table.
public final class WebSocketClient: ConnectionHandler {
    /// Index of this client in its group.
    public let index: Int
    /// Receives events; owned elsewhere (the group outlives its clients).
    unowned let delegate: WebSocketClientDelegate
    /// The handshake while it is in progress; nil once open.
    private var handshake: WebSocketClientHandshake?
    private let request: ByteChunk?
    private var socket = WebSocketConnection(role: .client, options: WebSocketOptions(permessageDeflate: false), deflate: nil)
    /// The transport, while it is registered.
    public private(set) var connection: Connection?
    /// Counters this subscriber has seen.
    public var counters = CounterWindow()
    /// Whether the handshake completed and the connection is still open.
    public private(set) var isOpen = false
    /// Whether the group counts this client as ready (e.g. it received its snapshot).
    public var isReady = false
    private var closeReason = "closed by peer"

    /// Creates a client that will send `handshake`'s request for `target` to `endpoint`.
    public init(index: Int, delegate: WebSocketClientDelegate, endpoint: Endpoint, target: String) {
        self.index = index
        self.delegate = delegate
        let handshake = WebSocketClientHandshake()
        self.handshake = handshake
        self.request = ByteChunk(handshake.requestBytes(host: endpoint.description, target: target))
    }

    public func connectionOpened(_ connection: Connection) {
        self.connection = connection
        if let request { connection.write(request) }
    }

    public func connectionReceived(_ connection: Connection, _ bytes: UnsafeRawBufferPointer) -> Int {
        if let handshake {
            switch HTTPResponseParser.parse(bytes, bodyless: true) {
            case .incomplete:
                return 0
            case .invalid(let reason):
                fail(connection, "bad handshake response: \(reason)")
                return bytes.count
            case .complete(let response, let length):
                if case .failure(let error) = handshake.validate(status: response.status, headers: response.headers) {
                    fail(connection, "handshake refused: \(error) \(String(decoding: response.body.prefix(80), as: UTF8.self))")
                    return bytes.count
                }
                self.handshake = nil
                isOpen = true
                delegate.webSocketOpened(self)
                return length
            }
        }
        var closeAfter = false
        let consumed = socket.receive(bytes) { event in
            switch event {
            case .text(let message), .binary(let message):
                message.withUnsafeBytes { delegate.webSocketReceived(self, message: $0) }
            case .send(let reply):
                connection.write(reply)
            case .closeTransport(let code):
                closeReason = "closed with \(code.rawValue)"
                closeAfter = true
            case .ping, .pong:
                break
            }
        }
        if closeAfter { connection.close() }
        return consumed
    }

    /// Sends one text message (masked, as a client must).
    public func send(text: [UInt8]) {
        guard isOpen, let connection else { return }
        connection.write(socket.encodeMessage(.text, text))
    }

    /// Bytes waiting in this connection's outbound queue.
    public var pendingOutboundBytes: Int { connection?.pendingOutboundBytes ?? 0 }

    /// Closes the connection at once (end of run).
    public func abort() {
        closeReason = "closed by the load test"
        connection?.close(abort: true)
    }

    private func fail(_ connection: Connection, _ reason: String) {
        closeReason = reason
        connection.close(abort: true)
    }

    public func connectionClosed(_ connection: Connection) {
        let wasOpen = isOpen
        isOpen = false
        self.connection = nil
        delegate.webSocketClosed(self, wasOpen: wasOpen, reason: wasOpen ? closeReason : handshakeFailure(closeReason))
    }

    private func handshakeFailure(_ reason: String) -> String {
        reason == "closed by peer" ? "connection failed or closed before the handshake" : reason
    }
}
