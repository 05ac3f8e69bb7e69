import Basics

/// The client side of the RFC 6455 §4.1 opening handshake: the request to send and the checks on
/// the server's answer.
///
/// Offers no extension and no subprotocol, so a response that selects either fails the
/// connection. The caller parses the HTTP response head itself and hands over the status code and
/// header fields.
public struct WebSocketClientHandshake: Sendable, Equatable {
    /// The `Sec-WebSocket-Key` sent: "a nonce consisting of a randomly selected 16-byte value that
    /// has been base64-encoded" (RFC 6455 §4.1, client requirement 7).
    public let key: String

    /// Creates a handshake with a fresh random key ("The nonce MUST be selected randomly for each
    /// connection", RFC 6455 §4.1).
    public init() {
        var generator = SystemRandomNumberGenerator()
        self.init(nonce: (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    /// Creates a handshake whose key is the base64 of `nonce` (16 bytes for a valid request; tests
    /// use the RFC's example nonce).
    public init(nonce: [UInt8]) {
        self.key = Base64.encode(nonce)
    }

    /// The `Sec-WebSocket-Accept` value the server must answer with (RFC 6455 §4.2.2, item 5.4).
    public var expectedAcceptValue: String {
        WebSocketHandshake.acceptValue(forKey: key)
    }

    /// The complete GET request head (RFC 6455 §4.1, client requirements 1–9), ending with the
    /// empty line.
    ///
    /// `host` is the `Host` header value (`host:port`), `target` the request-target (`/ws?topics=…`).
    /// `extraHeaders` follow the required ones (e.g. `Origin`).
    public func requestBytes(host: String, target: String, extraHeaders: [(name: String, value: String)] = []) -> [UInt8] {
        var text = "GET \(target) HTTP/1.1\r\nHost: \(host)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        text += "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n"
        for header in extraHeaders { text += "\(header.name): \(header.value)\r\n" }
        text += "\r\n"
        return Array(text.utf8)
    }

    /// Checks the server's response head against RFC 6455 §4.1 ("the client MUST validate the
    /// server's response as follows"); on success the connection is open.
    public func validate(status: Int, headers: [(name: String, value: String)]) -> Result<Void, WebSocketClientHandshakeError> {
        // 1. "If the status code received from the server is not 101, the client handles the
        //    response per HTTP procedures": for a WebSocket client that means the upgrade failed.
        guard status == 101 else { return .failure(.unexpectedStatus(status)) }
        func values(_ name: String) -> [String] {
            headers.lazy.filter { HeaderValueParser.equalsIgnoringASCIICase($0.name, name) }.map(\.value)
        }
        // 2. "If the response lacks an |Upgrade| header field or the |Upgrade| header field
        //    contains a value that is not an ASCII case-insensitive match for the value
        //    "websocket", the client MUST _Fail the WebSocket Connection_."
        guard HeaderValueParser.listContains(values("Upgrade"), token: "websocket") else {
            return .failure(.missingUpgrade)
        }
        // 3. "If the response lacks a |Connection| header field or the |Connection| header field
        //    doesn't contain a token that is an ASCII case-insensitive match for the value
        //    "Upgrade", the client MUST _Fail the WebSocket Connection_."
        guard HeaderValueParser.listContains(values("Connection"), token: "upgrade") else {
            return .failure(.missingConnectionUpgrade)
        }
        // 4. "If the response lacks a |Sec-WebSocket-Accept| header field or the
        //    |Sec-WebSocket-Accept| contains a value other than the base64-encoded SHA-1 of the
        //    concatenation of the |Sec-WebSocket-Key| (as a string, not base64-decoded) with the
        //    string "258EAFA5-E914-47DA-95CA-C5AB0DC85B11" but ignoring any leading and trailing
        //    whitespace, the client MUST _Fail the WebSocket Connection_."
        let accepts = values("Sec-WebSocket-Accept")
        let received = accepts.count == 1 ? String(HeaderValueParser.trim(Substring(accepts[0]))) : nil
        guard let received, received == expectedAcceptValue else {
            return .failure(.acceptMismatch(received: accepts.first))
        }
        // 5. "If the response includes a |Sec-WebSocket-Extensions| header field and this header
        //    field indicates the use of an extension that was not present in the client's
        //    handshake ..., the client MUST _Fail the WebSocket Connection_." We offer none.
        if let extensions = values("Sec-WebSocket-Extensions").first(where: { !HeaderValueParser.trim(Substring($0)).isEmpty }) {
            return .failure(.unrequestedExtension(extensions))
        }
        // 6. "If the response includes a |Sec-WebSocket-Protocol| header field and this header
        //    field indicates the use of a subprotocol that was not present in the client's
        //    handshake ..., the client MUST _Fail the WebSocket Connection_." We offer none.
        if let subprotocol = values("Sec-WebSocket-Protocol").first(where: { !HeaderValueParser.trim(Substring($0)).isEmpty }) {
            return .failure(.unrequestedSubprotocol(subprotocol))
        }
        return .success(())
    }
}

/// Why a server's answer to our opening handshake was refused (RFC 6455 §4.1).
public enum WebSocketClientHandshakeError: Error, Sendable, Equatable {
    /// The status code was not 101.
    case unexpectedStatus(Int)
    /// No `Upgrade: websocket`.
    case missingUpgrade
    /// No `Connection: Upgrade`.
    case missingConnectionUpgrade
    /// `Sec-WebSocket-Accept` missing, repeated or wrong; `received` is the first value seen.
    case acceptMismatch(received: String?)
    /// The server selected an extension we did not offer.
    case unrequestedExtension(String)
    /// The server selected a subprotocol we did not offer.
    case unrequestedSubprotocol(String)
}
