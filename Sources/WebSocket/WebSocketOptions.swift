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
    /// Whether an offer that limits the server's window (`server_max_window_bits` below 15) is
    /// honoured. When false such an offer is declined (RFC 7692 §5.1 lets a server decline any
    /// offer) and the next one in the header is tried; a stream then compresses each event once
    /// with a 15-bit window for every client instead of once per limiting client (about 5× the
    /// CPU). A conformance endpoint keeps it true.
    public var acceptsLimitedServerWindow: Bool
    /// Subprotocols the server speaks, in its order of preference (used only to check support:
    /// the client's order decides, see `WebSocketHandshake.negotiate`).
    public var subprotocols: [String]

    /// Creates options; the defaults suit a notification stream (1 MiB frames and messages, one
    /// shared deflate encoding: offers that limit the server window are declined).
    public init(
        maxFramePayload: Int = 1 << 20,
        maxMessageSize: Int = 1 << 20,
        permessageDeflate: Bool = true,
        acceptsLimitedServerWindow: Bool = false,
        subprotocols: [String] = []
    ) {
        self.maxFramePayload = maxFramePayload
        self.maxMessageSize = maxMessageSize
        self.permessageDeflate = permessageDeflate
        self.acceptsLimitedServerWindow = acceptsLimitedServerWindow
        self.subprotocols = subprotocols
    }

    /// Options for the conformance `/echo` endpoint: 32 MiB frames and messages, and every
    /// window a client may ask for (9–15 bits) honoured.
    public static let echo = WebSocketOptions(
        maxFramePayload: 32 << 20, maxMessageSize: 32 << 20, acceptsLimitedServerWindow: true)
}
