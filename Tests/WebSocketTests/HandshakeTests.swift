import Basics
import SeededRandom
import Testing

@testable import WebSocket

@Suite("RFC 6455 §4.2 Opening handshake")
struct HandshakeTests {
    /// The request of RFC 6455 §1.2 (without the subprotocol list).
    static let request: [(name: String, value: String)] = [
        ("Host", "server.example.com"),
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ("Origin", "http://example.com"),
        ("Sec-WebSocket-Version", "13"),
    ]

    static func negotiate(
        method: String = "GET",
        versionMinor: Int = 1,
        _ headers: [(name: String, value: String)],
        options: WebSocketOptions = WebSocketOptions()
    ) -> Result<WebSocketHandshakeAccepted, WebSocketHandshakeError> {
        WebSocketHandshake.negotiate(method: method, versionMinor: versionMinor, headers: headers, options: options)
    }

    static func replacing(_ name: String, with value: String?) -> [(name: String, value: String)] {
        var headers = request.filter { $0.name != name }
        if let value { headers.append((name, value)) }
        return headers
    }

    @Test("§1.3 accept value of the example key")
    func acceptValueGolden() {
        #expect(WebSocketHandshake.acceptValue(forKey: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    @Test("§4.2.2 full response to the §1.2 request")
    func responseGolden() throws {
        let accepted = try Self.negotiate(Self.request).get()
        #expect(accepted.origin == "http://example.com")
        #expect(accepted.subprotocol == nil)
        #expect(accepted.deflate == nil)
        let text = String(decoding: accepted.responseBytes(), as: UTF8.self)
        #expect(
            text == "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
        let withExtra = String(decoding: accepted.responseBytes(extraHeaders: [("Server", "syndicast")]), as: UTF8.self)
        #expect(withExtra.hasSuffix("xOo=\r\nServer: syndicast\r\n\r\n"))
    }

    @Test("header names and tokens are case-insensitive; tokens may be among others")
    func caseInsensitive() throws {
        let headers: [(name: String, value: String)] = [
            ("upgrade", "WebSocket"),
            ("CONNECTION", "keep-alive, Upgrade"),
            ("sec-websocket-key", " dGhlIHNhbXBsZSBub25jZQ== "),
            ("Sec-Websocket-Version", "13"),
        ]
        let accepted = try Self.negotiate(headers).get()
        #expect(accepted.acceptValue == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        #expect(accepted.origin == nil)
        let separateLines = [("Connection", "keep-alive"), ("Connection", "upgrade")] + Self.replacing("Connection", with: nil)
        #expect((try? Self.negotiate(separateLines).get()) != nil)
    }

    @Test(
        "§4.2.1 requests that fail with 400",
        arguments: [
            ("POST", 1, replacing("Upgrade", with: "websocket")),
            ("get", 1, request),
            ("GET", 0, request),
            ("GET", 1, replacing("Upgrade", with: nil)),
            ("GET", 1, replacing("Upgrade", with: "h2c")),
            ("GET", 1, replacing("Upgrade", with: "websocketx")),
            ("GET", 1, replacing("Connection", with: nil)),
            ("GET", 1, replacing("Connection", with: "keep-alive")),
            ("GET", 1, replacing("Connection", with: "upgrades")),
            ("GET", 1, replacing("Sec-WebSocket-Key", with: nil)),
            ("GET", 1, replacing("Sec-WebSocket-Key", with: "")),
            ("GET", 1, replacing("Sec-WebSocket-Key", with: "not base64!!!!!!!!!!!!!!")),
            ("GET", 1, replacing("Sec-WebSocket-Key", with: "dGhlIHNhbXBsZSBub25jZQ")),
            ("GET", 1, replacing("Sec-WebSocket-Key", with: "dGhlIHNhbXBsZSBub25j")),  // 15 bytes
            ("GET", 1, replacing("Sec-WebSocket-Key", with: "dGhlIHNhbXBsZSBub25jZXg=")),  // 17 bytes
            ("GET", 1, replacing("Sec-WebSocket-Key", with: "dGhlIHNhbXBsZSBub25jZR==")),  // nonzero pad bits
            ("GET", 1, request + [("Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAAAA==")]),
        ] as [(String, Int, [(name: String, value: String)])])
    func badRequests(method: String, minor: Int, headers: [(name: String, value: String)]) {
        switch Self.negotiate(method: method, versionMinor: minor, headers) {
        case .success: Issue.record("accepted a bad handshake")
        case .failure(let error):
            #expect(error.status == 400)
            #expect(error.headers.isEmpty)
            #expect(!error.message.isEmpty)
        }
    }

    @Test(
        "§4.2.2 item 4: wrong or missing version fails with 426 and Sec-WebSocket-Version: 13",
        arguments: [
            replacing("Sec-WebSocket-Version", with: "8"),
            replacing("Sec-WebSocket-Version", with: "14"),
            replacing("Sec-WebSocket-Version", with: "13, 8"),
            replacing("Sec-WebSocket-Version", with: nil),
            request + [("Sec-WebSocket-Version", "8")],
        ])
    func wrongVersion(headers: [(name: String, value: String)]) {
        switch Self.negotiate(headers) {
        case .success: Issue.record("accepted a wrong version")
        case .failure(let error):
            #expect(error.status == 426)
            #expect(error.headers.count == 1)
            #expect(error.headers.first?.name == "Sec-WebSocket-Version")
            #expect(error.headers.first?.value == "13")
        }
    }

    @Test("HTTP/1.2 and later are accepted (\"HTTP/1.1 or higher\")")
    func laterMinorVersion() {
        #expect((try? Self.negotiate(versionMinor: 2, Self.request).get()) != nil)
    }

    @Test("§4.2.2 item 5.4: the first client-offered subprotocol the server supports, across header lines")
    func subprotocolChoice() throws {
        let options = WebSocketOptions(subprotocols: ["superchat", "chat"])
        let offered = Self.request + [("Sec-WebSocket-Protocol", "v2.other, chat"), ("Sec-WebSocket-Protocol", "superchat")]
        let accepted = try Self.negotiate(offered, options: options).get()
        #expect(accepted.subprotocol == "chat")
        let text = String(decoding: accepted.responseBytes(), as: UTF8.self)
        #expect(text.contains("\r\nSec-WebSocket-Protocol: chat\r\n"))

        let none = try Self.negotiate(Self.request + [("Sec-WebSocket-Protocol", "mqtt")], options: options).get()
        #expect(none.subprotocol == nil)
        #expect(!String(decoding: none.responseBytes(), as: UTF8.self).contains("Sec-WebSocket-Protocol"))
    }

    @Test("permessage-deflate is negotiated only when enabled, and answered in the response")
    func deflateInResponse() throws {
        let offered = Self.request + [("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits")]
        let accepted = try Self.negotiate(offered).get()
        #expect(accepted.deflate == DeflateParameters(serverNoContextTakeover: true))
        let text = String(decoding: accepted.responseBytes(), as: UTF8.self)
        #expect(text.contains("\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n"))
        let disabled = try Self.negotiate(offered, options: WebSocketOptions(permessageDeflate: false)).get()
        #expect(disabled.deflate == nil)
        #expect(!String(decoding: disabled.responseBytes(), as: UTF8.self).contains("Extensions"))
    }

    @Test("base64 round trip of every length and the RFC 4648 §10 vectors")
    func base64() {
        let vectors = ["": "", "f": "Zg==", "fo": "Zm8=", "foo": "Zm9v", "foob": "Zm9vYg==", "fooba": "Zm9vYmE=", "foobar": "Zm9vYmFy"]
        for (plain, encoded) in vectors {
            #expect(Base64.encode(Array(plain.utf8)) == encoded)
            #expect(Base64.decode(encoded) == Array(plain.utf8))
        }
        var generator = SeededGenerator(seed: 4648)
        for length in 0..<40 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect(Base64.decode(Base64.encode(bytes)) == bytes)
        }
        for bad in ["Zg=", "Zg===", "Z===", "=Zg=", "Zm9v=Zg=", "Zh==", "Zm9\u{e9}", "Zm 9"] {
            #expect(Base64.decode(bad) == nil, "\(bad)")
        }
    }
}
