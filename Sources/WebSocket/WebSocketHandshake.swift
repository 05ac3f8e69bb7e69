import Basics
import COpenSSL

/// The server side of the RFC 6455 §4.2 opening handshake.
public enum WebSocketHandshake {
    /// "258EAFA5-E914-47DA-95CA-C5AB0DC85B11" (RFC 6455 §1.3).
    public static let globallyUniqueIdentifier = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// The `Sec-WebSocket-Accept` value: "the base64-encoded SHA-1 of the concatenation of the
    /// |Sec-WebSocket-Key| (as a string, not base64-decoded) with the string
    /// "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"" (RFC 6455 §4.2.2).
    public static func acceptValue(forKey key: String) -> String {
        let input = Array((key + globallyUniqueIdentifier).utf8)
        var digest = [UInt8](repeating: 0, count: Int(SHA_DIGEST_LENGTH))
        input.withUnsafeBufferPointer { inputBuffer in
            digest.withUnsafeMutableBufferPointer { digestBuffer in
                _ = SHA1(inputBuffer.baseAddress, inputBuffer.count, digestBuffer.baseAddress)
            }
        }
        return Base64.encode(digest)
    }

    /// Checks a request against RFC 6455 §4.2.1 and chooses the subprotocol and permessage-deflate
    /// parameters (RFC 7692 §5).
    ///
    /// - Method `GET` and HTTP/1.1 or later: "An HTTP/1.1 or higher GET request" (§4.2.1 item 1).
    /// - `Upgrade` with the token `websocket`, `Connection` with the token `Upgrade`, both
    ///   case-insensitive, possibly among other tokens (items 3, 4).
    /// - `Sec-WebSocket-Key` "when decoded, is 16 bytes in length" (item 5).
    /// - `Sec-WebSocket-Version: 13` (item 6); otherwise 426 with `Sec-WebSocket-Version: 13`
    ///   (§4.2.2 item 4).
    /// - The subprotocol is the first one the client lists (header order, then list order) that
    ///   `options.subprotocols` contains (§4.2.2 item 5.4, "/subprotocol/").
    /// - `Host` is not checked here: the HTTP/1.1 layer requires it (RFC 7230 §5.4).
    public static func negotiate(
        method: String,
        versionMinor: Int,
        headers: [(name: String, value: String)],
        options: WebSocketOptions
    ) -> Result<WebSocketHandshakeAccepted, WebSocketHandshakeError> {
        guard method == "GET" else {
            return .failure(.badRequest("WebSocket handshake requires GET"))
        }
        guard versionMinor >= 1 else {
            return .failure(.badRequest("WebSocket handshake requires HTTP/1.1"))
        }
        func values(_ name: String) -> [String] {
            headers.lazy.filter { HeaderValueParser.equalsIgnoringASCIICase($0.name, name) }.map(\.value)
        }
        guard HeaderValueParser.listContains(values("Upgrade"), token: "websocket") else {
            return .failure(.badRequest("missing Upgrade: websocket"))
        }
        guard HeaderValueParser.listContains(values("Connection"), token: "upgrade") else {
            return .failure(.badRequest("missing Connection: Upgrade"))
        }
        let versions = values("Sec-WebSocket-Version")
        guard versions.count == 1, HeaderValueParser.trim(Substring(versions[0])) == "13" else {
            return .failure(.unsupportedVersion)
        }
        let keys = values("Sec-WebSocket-Key")
        guard keys.count == 1 else {
            return .failure(.badRequest("expected one Sec-WebSocket-Key"))
        }
        let key = String(HeaderValueParser.trim(Substring(keys[0])))
        guard let decodedKey = Base64.decode(key), decodedKey.count == 16 else {
            return .failure(.badRequest("Sec-WebSocket-Key must be base64 of 16 bytes"))
        }
        let offeredProtocols = values("Sec-WebSocket-Protocol").flatMap(HeaderValueParser.tokens)
        let subprotocol = offeredProtocols.first { options.subprotocols.contains(String($0)) }.map(String.init)
        let deflate =
            options.permessageDeflate
            ? PermessageDeflateOffer.negotiate(
                headerValues: values("Sec-WebSocket-Extensions"), acceptsLimitedServerWindow: options.acceptsLimitedServerWindow)
            : nil
        return .success(
            WebSocketHandshakeAccepted(
                acceptValue: acceptValue(forKey: key),
                origin: values("Origin").first,
                subprotocol: subprotocol,
                deflate: deflate
            )
        )
    }
}
