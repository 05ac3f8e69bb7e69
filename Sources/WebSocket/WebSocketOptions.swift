/// Limits and features of one WebSocket endpoint.
public struct WebSocketOptions: Sendable {
    /// The largest payload of one frame as it is on the wire; a larger frame fails with 1009
    /// as soon as its header is read, before any of its payload is buffered.
    public var maxFramePayload: Int
    /// The largest message after reassembly and inflation; a larger one fails with 1009 as soon as
    /// the limit is passed.
    public var maxMessageSize: Int
    /// Whether permessage-deflate (RFC 7692) is accepted when a client offers it.
    public var permessageDeflate: Bool
    /// Subprotocols the server speaks, in its order of preference (used only to check support:
    /// the client's order decides, see `WebSocketHandshake.negotiate`).
    public var subprotocols: [String]

    /// Creates options; the defaults suit a notification stream (1 MiB frames and messages).
    public init(
        maxFramePayload: Int = 1 << 20,
        maxMessageSize: Int = 1 << 20,
        permessageDeflate: Bool = true,
        subprotocols: [String] = []
    ) {
        self.maxFramePayload = maxFramePayload
        self.maxMessageSize = maxMessageSize
        self.permessageDeflate = permessageDeflate
        self.subprotocols = subprotocols
    }

    /// Options for the conformance `/echo` endpoint: 32 MiB frames and messages.
    public static let echo = WebSocketOptions(maxFramePayload: 32 << 20, maxMessageSize: 32 << 20)
}
