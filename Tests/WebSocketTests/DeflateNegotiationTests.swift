import Testing

@testable import WebSocket

@Suite("RFC 7692 §5, §7.1 permessage-deflate negotiation")
struct DeflateNegotiationTests {
    static let plain = DeflateParameters(serverNoContextTakeover: true)

    @Test(
        "offers and the parameters accepted",
        arguments: [
            (["permessage-deflate"], plain),
            (["permessage-deflate; client_max_window_bits"], plain),
            (["permessage-deflate; client_max_window_bits=10"], DeflateParameters(clientMaxWindowBits: 10)),
            (["permessage-deflate; server_max_window_bits=10"], DeflateParameters(serverMaxWindowBits: 10)),
            (["permessage-deflate; server_max_window_bits=9"], DeflateParameters(serverMaxWindowBits: 9)),
            (["permessage-deflate; server_max_window_bits=15"], DeflateParameters(serverMaxWindowBits: 15)),
            (["permessage-deflate; server_no_context_takeover"], plain),
            (["permessage-deflate; client_no_context_takeover"], DeflateParameters(clientNoContextTakeover: true)),
            (
                [
                    "permessage-deflate; client_no_context_takeover; server_no_context_takeover; server_max_window_bits=12; client_max_window_bits=11"
                ],
                DeflateParameters(clientNoContextTakeover: true, serverMaxWindowBits: 12, clientMaxWindowBits: 11)
            ),
            // RFC 7692 §5.1 example: the first offer is preferred when acceptable.
            (
                ["permessage-deflate; client_max_window_bits; server_max_window_bits=10, permessage-deflate; client_max_window_bits"],
                DeflateParameters(serverMaxWindowBits: 10)
            ),
            // server_max_window_bits=8 cannot be honoured with zlib: the next offer is taken.
            (["permessage-deflate; server_max_window_bits=8, permessage-deflate"], plain),
            (
                ["permessage-deflate; server_max_window_bits=8", "permessage-deflate; client_max_window_bits=8"],
                DeflateParameters(clientMaxWindowBits: 8)
            ),
            // Quoted values (RFC 7692 §7.1: "may be a quoted-string").
            (["permessage-deflate; server_max_window_bits=\"10\""], DeflateParameters(serverMaxWindowBits: 10)),
            (["permessage-deflate; client_max_window_bits=\"9\""], DeflateParameters(clientMaxWindowBits: 9)),
            // Whitespace and case.
            (["  Permessage-Deflate ;\tclient_max_window_bits = 12 ,x"], DeflateParameters(clientMaxWindowBits: 12)),
            // Other extensions before, and several header lines.
            (["x-webkit-deflate-frame, permessage-deflate"], plain),
            (["foo; bar=1", "permessage-deflate; client_no_context_takeover"], DeflateParameters(clientNoContextTakeover: true)),
            // An invalid offer is skipped, the next one taken.
            (["permessage-deflate; client_no_context_takeover; client_no_context_takeover, permessage-deflate"], plain),
        ] as [([String], DeflateParameters)])
    func accepted(headers: [String], expected: DeflateParameters) {
        #expect(PermessageDeflateOffer.negotiate(headerValues: headers) == expected)
    }

    @Test(
        "invalid or unacceptable offers are declined, never an error",
        arguments: [
            [],
            [""],
            ["x-webkit-deflate-frame"],
            ["permessage-deflate; server_max_window_bits=8"],
            ["permessage-deflate; server_max_window_bits"],
            ["permessage-deflate; server_max_window_bits=7"],
            ["permessage-deflate; server_max_window_bits=16"],
            ["permessage-deflate; server_max_window_bits=010"],
            ["permessage-deflate; server_max_window_bits=1a"],
            ["permessage-deflate; server_max_window_bits=\"\""],
            ["permessage-deflate; server_max_window_bits=\"10"],
            ["permessage-deflate; client_max_window_bits=0"],
            ["permessage-deflate; client_max_window_bits=16"],
            ["permessage-deflate; client_no_context_takeover=1"],
            ["permessage-deflate; server_no_context_takeover=true"],
            ["permessage-deflate; server_no_context_takeover; server_no_context_takeover"],
            ["permessage-deflate; client_max_window_bits; client_max_window_bits=10"],
            ["permessage-deflate; server_max_window_bits=10; server_max_window_bits=11"],
            ["permessage-deflate; unknown_parameter"],
            ["permessage-deflate; mux"],
            ["permessage-deflate;"],
            ["permessage-deflate; =10"],
        ] as [[String]])
    func declined(headers: [String]) {
        #expect(PermessageDeflateOffer.negotiate(headerValues: headers) == nil)
    }

    @Test(
        "a stream (the default options) declines offers that limit the server window, taking the next offer",
        arguments: [
            (["permessage-deflate; server_max_window_bits=10"], nil),
            (["permessage-deflate; server_max_window_bits=14"], nil),
            (["permessage-deflate; server_max_window_bits=15"], DeflateParameters(serverMaxWindowBits: 15)),
            // RFC 7692 §5.1 example: the limiting first offer is declined, the fallback accepted.
            (
                ["permessage-deflate; client_max_window_bits; server_max_window_bits=10, permessage-deflate; client_max_window_bits"],
                plain
            ),
            (
                ["permessage-deflate; server_max_window_bits=9", "permessage-deflate; client_no_context_takeover"],
                DeflateParameters(clientNoContextTakeover: true)
            ),
            // Only the server's window matters: a client window limit is still honoured.
            (["permessage-deflate; client_max_window_bits=10"], DeflateParameters(clientMaxWindowBits: 10)),
            (["permessage-deflate"], plain),
        ] as [([String], DeflateParameters?)])
    func streamDeclinesLimitedServerWindow(headers: [String], expected: DeflateParameters?) {
        let options = WebSocketOptions()
        #expect(!options.acceptsLimitedServerWindow)
        #expect(
            PermessageDeflateOffer.negotiate(headerValues: headers, acceptsLimitedServerWindow: options.acceptsLimitedServerWindow)
                == expected)
    }

    @Test("the handshake applies the option: /echo honours a limited server window, a stream declines it")
    func handshakeUsesTheOption() throws {
        let headers: [(name: String, value: String)] = [
            ("Host", "example.com"), ("Upgrade", "websocket"), ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Extensions", "permessage-deflate; server_max_window_bits=10"),
        ]
        let echo = try WebSocketHandshake.negotiate(method: "GET", versionMinor: 1, headers: headers, options: .echo).get()
        #expect(echo.deflate == DeflateParameters(serverMaxWindowBits: 10))
        let stream = try WebSocketHandshake.negotiate(method: "GET", versionMinor: 1, headers: headers, options: WebSocketOptions()).get()
        #expect(stream.deflate == nil)
        #expect(!String(decoding: stream.responseBytes(), as: UTF8.self).contains("Sec-WebSocket-Extensions"))
    }

    @Test("response header values")
    func responseValues() {
        #expect(Self.plain.responseHeaderValue == "permessage-deflate; server_no_context_takeover")
        let full = DeflateParameters(clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 9)
        #expect(
            full.responseHeaderValue
                == "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=9"
        )
    }

    @Test("roles: which side keeps an inflater and which window it compresses with")
    func roles() {
        let parameters = DeflateParameters(clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 8)
        #expect(!parameters.peerTakesOverContext(role: .server))
        #expect(!parameters.peerTakesOverContext(role: .client))
        #expect(parameters.sendingWindowBits(role: .server) == 10)
        #expect(parameters.sendingWindowBits(role: .client) == nil)
        #expect(DeflateParameters().peerTakesOverContext(role: .server))
        #expect(DeflateParameters().sendingWindowBits(role: .client) == 15)
    }
}
