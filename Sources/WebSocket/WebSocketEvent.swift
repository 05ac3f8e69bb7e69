/// What the caller must do after feeding bytes, in the exact order produced.
public enum WebSocketEvent: Sendable, Equatable {
    /// A complete, validated (and inflated) text message: its bytes are valid UTF-8.
    case text([UInt8])
    /// A complete (and inflated) binary message.
    case binary([UInt8])
    /// A ping; the pong reply follows as a `.send`.
    case ping([UInt8])
    /// A pong (usually the answer to our keepalive ping).
    case pong([UInt8])
    /// Bytes to write to the peer, in order with every other `.send`.
    case send([UInt8])
    /// Write every `.send` emitted before, then close the TCP connection. Nothing follows.
    ///
    /// The code is the connection's close code: the peer's code for a close it started (1000 for
    /// an empty close payload), ours for one we started, or the code of the protocol error.
    case closeTransport(WebSocketCloseCode)
}
