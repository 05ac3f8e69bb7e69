import Basics
import Testing

@testable import WebSocket

@Suite("RFC 6455 §4.1 Client requirements")
struct ClientHandshakeTests {
    /// The nonce of the RFC 6455 §1.3 example: base64 "dGhlIHNhbXBsZSBub25jZQ==".
    static let exampleNonce = Array("the sample nonce".utf8)

    /// The §1.2 server response to the example key.
    static let exampleResponse: [(name: String, value: String)] = [
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
    ]

    static func replacing(_ name: String, with value: String?) -> [(name: String, value: String)] {
        var headers = exampleResponse.filter { $0.name != name }
        if let value { headers.append((name, value)) }
        return headers
    }

    /// The header fields of a request or response head (every line after the first).
    static func headerFields(_ head: String) -> [(name: String, value: String)] {
        var fields: [(name: String, value: String)] = []
        for line in head.split(separator: "\r\n").dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            fields.append((String(parts[0]), String(parts[1].drop { $0 == " " })))
        }
        return fields
    }

    static func error(
        _ headers: [(name: String, value: String)],
        status: Int = 101,
        handshake: WebSocketClientHandshake = WebSocketClientHandshake(nonce: exampleNonce)
    ) -> WebSocketClientHandshakeError? {
        if case .failure(let error) = handshake.validate(status: status, headers: headers) { return error }
        return nil
    }

    @Test("§1.3 example nonce gives the example key and accept value")
    func exampleKey() {
        let handshake = WebSocketClientHandshake(nonce: Self.exampleNonce)
        #expect(handshake.key == "dGhlIHNhbXBsZSBub25jZQ==")
        #expect(handshake.expectedAcceptValue == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    @Test("§4.1 item 7: random keys are base64 of 16 bytes and differ per connection")
    func randomKeys() {
        let keys = (0..<32).map { _ in WebSocketClientHandshake().key }
        #expect(Set(keys).count == keys.count)
        for key in keys {
            #expect(Base64.decode(key)?.count == 16)
        }
    }

    @Test("§4.1 request head, golden bytes")
    func requestGolden() {
        let handshake = WebSocketClientHandshake(nonce: Self.exampleNonce)
        let text = String(
            decoding: handshake.requestBytes(host: "127.0.0.1:8080", target: "/ws?topics=alerts", extraHeaders: [("Origin", "http://x")]),
            as: UTF8.self)
        #expect(
            text == "GET /ws?topics=alerts HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: http://x\r\n\r\n")
    }

    @Test("the request is accepted by our own server-side negotiation")
    func roundTripWithServerSide() throws {
        let handshake = WebSocketClientHandshake()
        let head = String(decoding: handshake.requestBytes(host: "h", target: "/"), as: UTF8.self)
        let headers = Self.headerFields(head)
        let accepted = try WebSocketHandshake.negotiate(
            method: "GET", versionMinor: 1, headers: headers, options: WebSocketOptions(permessageDeflate: false)
        ).get()
        #expect(accepted.acceptValue == handshake.expectedAcceptValue)
        let response = String(decoding: accepted.responseBytes(), as: UTF8.self)
        let responseHeaders = Self.headerFields(response)
        #expect(Self.error(responseHeaders, handshake: handshake) == nil)
    }

    @Test("§4.1 item 1: a status other than 101 fails")
    func status() {
        #expect(Self.error(Self.exampleResponse, status: 200) == .unexpectedStatus(200))
        #expect(Self.error(Self.exampleResponse, status: 426) == .unexpectedStatus(426))
        #expect(Self.error(Self.exampleResponse) == nil)
    }

    @Test("§4.1 items 2, 3: Upgrade and Connection tokens, case-insensitive")
    func upgradeAndConnection() {
        #expect(Self.error(Self.replacing("Upgrade", with: nil)) == .missingUpgrade)
        #expect(Self.error(Self.replacing("Upgrade", with: "h2c")) == .missingUpgrade)
        #expect(Self.error(Self.replacing("Upgrade", with: "WebSocket")) == nil)
        #expect(Self.error(Self.replacing("Connection", with: nil)) == .missingConnectionUpgrade)
        #expect(Self.error(Self.replacing("Connection", with: "keep-alive")) == .missingConnectionUpgrade)
        #expect(Self.error(Self.replacing("Connection", with: "keep-alive, upgrade")) == nil)
    }

    @Test("§4.1 item 4: Sec-WebSocket-Accept must match, whitespace ignored, header name case-insensitive")
    func acceptValue() {
        #expect(Self.error(Self.replacing("Sec-WebSocket-Accept", with: nil)) == .acceptMismatch(received: nil))
        #expect(
            Self.error(Self.replacing("Sec-WebSocket-Accept", with: "AAAAAAAAAAAAAAAAAAAAAAAAAAA="))
                == .acceptMismatch(received: "AAAAAAAAAAAAAAAAAAAAAAAAAAA="))
        #expect(Self.error(Self.replacing("Sec-WebSocket-Accept", with: "  s3pPLMBiTxaQ9kYGzzhZRbK+xOo= ")) == nil)
        var lowercased = Self.replacing("Sec-WebSocket-Accept", with: nil)
        lowercased.append(("sec-websocket-accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="))
        #expect(Self.error(lowercased) == nil)
        let otherKey = WebSocketClientHandshake(nonce: Array(repeating: 7, count: 16))
        #expect(Self.error(Self.exampleResponse, handshake: otherKey) == .acceptMismatch(received: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="))
    }

    @Test("§4.1 items 5, 6: an extension or subprotocol we did not offer fails")
    func unrequested() {
        var headers = Self.exampleResponse
        headers.append(("Sec-WebSocket-Extensions", "permessage-deflate"))
        #expect(Self.error(headers) == .unrequestedExtension("permessage-deflate"))
        headers = Self.exampleResponse
        headers.append(("Sec-WebSocket-Protocol", "chat"))
        #expect(Self.error(headers) == .unrequestedSubprotocol("chat"))
    }
}
