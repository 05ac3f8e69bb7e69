/// A WebSocket frame opcode (RFC 6455 §5.2).
///
/// "%x3-7 are reserved for further non-control frames" and "%xB-F are reserved for further
/// control frames": those values have no case here, so a frame carrying one fails to parse.
public enum WebSocketOpcode: UInt8, Sendable {
    case continuation = 0
    case text = 1
    case binary = 2
    case close = 8
    case ping = 9
    case pong = 10

    /// True for close, ping and pong: "Control frames are identified by opcodes where the most
    /// significant bit of the opcode is 1" (RFC 6455 §5.5).
    @inlinable
    public var isControl: Bool { rawValue & 0x08 != 0 }
}

/// Which end of the connection this endpoint is; it decides who masks (RFC 6455 §5.3).
public enum WebSocketRole: Sendable {
    /// Receives masked frames and sends unmasked ones.
    case server
    /// Sends masked frames and receives unmasked ones.
    case client
}

/// The lifecycle of a connection's closing handshake (RFC 6455 §7).
public enum WebSocketConnectionState: Sendable, Equatable {
    /// Messages flow both ways.
    case open
    /// We sent a close frame and wait for the peer's.
    case closing
    /// The transport must be (or has been) closed; every further byte is ignored.
    case closed
}
