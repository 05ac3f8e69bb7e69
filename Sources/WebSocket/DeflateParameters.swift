/// The permessage-deflate parameters agreed in the opening handshake (RFC 7692 §7.1).
public struct DeflateParameters: Sendable, Equatable {
    /// The server compresses every message with a fresh context (§7.1.1.1). Syndicast always answers
    /// with it, so one compressed event can be sent to every client.
    public var serverNoContextTakeover: Bool
    /// The client compresses every message with a fresh context (§7.1.1.2), so the server's
    /// inflater can be freed between messages.
    public var clientNoContextTakeover: Bool
    /// The server's LZ77 window (§7.1.2.1), 9–15; nil means the default, 15.
    public var serverMaxWindowBits: Int?
    /// The client's LZ77 window (§7.1.2.2), 8–15; nil means it is not in the response.
    public var clientMaxWindowBits: Int?

    /// Creates parameters; the defaults are what Syndicast answers to a bare offer.
    public init(
        serverNoContextTakeover: Bool = true,
        clientNoContextTakeover: Bool = false,
        serverMaxWindowBits: Int? = nil,
        clientMaxWindowBits: Int? = nil
    ) {
        self.serverNoContextTakeover = serverNoContextTakeover
        self.clientNoContextTakeover = clientNoContextTakeover
        self.serverMaxWindowBits = serverMaxWindowBits
        self.clientMaxWindowBits = clientMaxWindowBits
    }

    /// The `Sec-WebSocket-Extensions` value of the handshake response.
    public var responseHeaderValue: String {
        var value = "permessage-deflate"
        if serverNoContextTakeover { value += "; server_no_context_takeover" }
        if clientNoContextTakeover { value += "; client_no_context_takeover" }
        if let serverMaxWindowBits { value += "; server_max_window_bits=\(serverMaxWindowBits)" }
        if let clientMaxWindowBits { value += "; client_max_window_bits=\(clientMaxWindowBits)" }
        return value
    }

    /// Whether an endpoint with `role` keeps its inflater between messages (the peer takes over
    /// its context).
    func peerTakesOverContext(role: WebSocketRole) -> Bool {
        role == .server ? !clientNoContextTakeover : !serverNoContextTakeover
    }

    /// The window an endpoint with `role` may compress with; nil when it is 8, which zlib cannot
    /// produce for raw DEFLATE (such an endpoint sends uncompressed messages, always allowed by
    /// RFC 7692 §6.1).
    func sendingWindowBits(role: WebSocketRole) -> Int? {
        let bits = (role == .server ? serverMaxWindowBits : clientMaxWindowBits) ?? 15
        return (9...15).contains(bits) ? bits : nil
    }
}
