import Testing

@testable import LoadTestKit

@Suite("RFC 9112 response parsing for the load client")
struct HTTPResponseParserTests {
    static let created = Array(
        "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 47\r\n\r\n{\"accepted\":1,\"duplicates\":0,\"firstSeq\":1,\"lastSeq\":1}"
            .utf8)
    static let chunked = Array(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: 1\r\n\r\n".utf8)
    static let upgrade = Array(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n".utf8)

    /// Feeds `bytes` to the parser the way the event loop does: unconsumed bytes are offered again
    /// with the next piece appended. Returns the responses in order.
    static func feed(_ bytes: [UInt8], pieceSize: Int, bodyless: Bool = false) -> [HTTPResponse] {
        var pending: [UInt8] = []
        var responses: [HTTPResponse] = []
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + pieceSize, bytes.count)
            pending += bytes[offset..<end]
            offset = end
            while case .complete(let response, let length) = HTTPResponseParser.parse(pending, bodyless: bodyless) {
                responses.append(response)
                pending.removeFirst(length)
            }
        }
        #expect(pending.isEmpty)
        return responses
    }

    @Test("201 with Content-Length: whole, byte by byte, and three in one buffer", arguments: [Int.max, 1, 7])
    func contentLength(pieceSize: Int) throws {
        let body = Array(#"{"accepted":1,"duplicates":0,"firstSeq":1,"lastSeq":1}"#.utf8)
        let bytes = Array("HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body
        let responses = Self.feed(bytes + bytes + bytes, pieceSize: pieceSize)
        #expect(responses.count == 3)
        let first = try #require(responses.first)
        #expect(first.status == 201)
        #expect(first.reason == "Created")
        #expect(first.header("content-type") == "application/json")
        #expect(first.body == body)
        #expect(first.keepsAlive)
    }

    @Test("chunked body is de-chunked, extensions and trailers skipped", arguments: [Int.max, 1, 3])
    func chunkedBody(pieceSize: Int) throws {
        let responses = Self.feed(Self.chunked + Self.chunked, pieceSize: pieceSize)
        #expect(responses.count == 2)
        #expect(responses.first?.body == Array("hello world".utf8))
    }

    @Test("101 leaves the following frame bytes unconsumed")
    func upgradeHead() throws {
        let frame: [UInt8] = [0x81, 0x02, 0x68, 0x69]
        guard case .complete(let response, let length) = HTTPResponseParser.parse(Self.upgrade + frame, bodyless: true) else {
            Issue.record("expected a complete response")
            return
        }
        #expect(response.status == 101)
        #expect(length == Self.upgrade.count)
        #expect(response.header("sec-websocket-accept") == "x")
    }

    @Test("incomplete heads and bodies ask for more")
    func incomplete() {
        let body = Array("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc".utf8)
        #expect(HTTPResponseParser.parse(body) == .incomplete)
        #expect(HTTPResponseParser.parse(Array("HTTP/1.1 200 OK\r\nContent-Le".utf8)) == .incomplete)
        #expect(HTTPResponseParser.parse([]) == .incomplete)
    }

    @Test("invalid responses are errors, never traps")
    func invalid() {
        let cases = [
            "HTTP/2 200 OK\r\n\r\n",
            "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
            "HTTP/1.1 200 OK\r\n: empty name\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
            "HTTP/1.1 200 OK\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY",
        ]
        for text in cases {
            guard case .invalid = HTTPResponseParser.parse(Array(text.utf8)) else {
                Issue.record("accepted: \(text.debugDescription)")
                continue
            }
        }
        let tooLong = Array("HTTP/1.1 200 OK\r\nX: ".utf8) + Array(repeating: UInt8(ascii: "a"), count: 20_000)
        #expect(HTTPResponseParser.parse(tooLong) == .invalid("response head too long"))
    }

    @Test("Connection: close and HTTP/1.0 end keep-alive")
    func keepAlive() throws {
        let close = Array("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n".utf8)
        guard case .complete(let response, _) = HTTPResponseParser.parse(close) else {
            Issue.record("expected complete")
            return
        }
        #expect(!response.keepsAlive)
        guard case .complete(let old, _) = HTTPResponseParser.parse(Array("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n".utf8)) else {
            Issue.record("expected complete")
            return
        }
        #expect(old.versionMinor == 0)
        #expect(!old.keepsAlive)
    }
}
