/// A successful opening handshake: what to answer and what was agreed.
public struct WebSocketHandshakeAccepted: Sendable {
    /// The `Sec-WebSocket-Accept` value.
    public var acceptValue: String
    /// The request's `Origin`, for the caller's allow-list (RFC 6455 §4.2.2 item 4 / §10.2).
    public var origin: String?
    /// The chosen subprotocol, echoed in `Sec-WebSocket-Protocol`.
    public var subprotocol: String?
    /// The permessage-deflate parameters, nil if not negotiated.
    public var deflate: DeflateParameters?

    /// Creates an accepted handshake.
    public init(acceptValue: String, origin: String? = nil, subprotocol: String? = nil, deflate: DeflateParameters? = nil) {
        self.acceptValue = acceptValue
        self.origin = origin
        self.subprotocol = subprotocol
        self.deflate = deflate
    }

    /// The complete `101 Switching Protocols` response head (RFC 6455 §4.2.2 item 5), ending with
    /// the empty line.
    public func responseBytes(extraHeaders: [(name: String, value: String)] = []) -> [UInt8] {
        var text = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        text += "Sec-WebSocket-Accept: \(acceptValue)\r\n"
        if let subprotocol { text += "Sec-WebSocket-Protocol: \(subprotocol)\r\n" }
        if let deflate { text += "Sec-WebSocket-Extensions: \(deflate.responseHeaderValue)\r\n" }
        for header in extraHeaders { text += "\(header.name): \(header.value)\r\n" }
        text += "\r\n"
        return Array(text.utf8)
    }
}

/// A failed opening handshake: the HTTP error to answer with.
public struct WebSocketHandshakeError: Error, Sendable {
    /// 400, or 426 for an unsupported `Sec-WebSocket-Version`.
    public var status: Int
    /// A human-readable reason, suitable for the response body.
    public var message: String
    /// Headers the response must carry (`Sec-WebSocket-Version: 13` with 426).
    public var headers: [(name: String, value: String)]

    /// Creates an error.
    public init(status: Int, message: String, headers: [(name: String, value: String)] = []) {
        self.status = status
        self.message = message
        self.headers = headers
    }

    static func badRequest(_ message: String) -> WebSocketHandshakeError {
        WebSocketHandshakeError(status: 400, message: message)
    }

    /// RFC 6455 §4.2.2 item 4: "If this version does not match a version understood by the server,
    /// the server MUST abort the WebSocket handshake described in this section and instead send an
    /// appropriate HTTP error code (such as 426 Upgrade Required) and a |Sec-WebSocket-Version|
    /// header field indicating the version(s) the server is capable of understanding."
    static let unsupportedVersion = WebSocketHandshakeError(
        status: 426,
        message: "unsupported Sec-WebSocket-Version (13 required)",
        headers: [(name: "Sec-WebSocket-Version", value: "13")]
    )
}
