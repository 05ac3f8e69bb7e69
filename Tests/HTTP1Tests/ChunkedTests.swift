import Testing

@testable import HTTP1

@Suite("RFC 9112 §7.1 Chunked transfer coding")
struct ChunkedTests {
    let head = "POST /api/transactions HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"

    @Test("chunks are joined into the body")
    func simpleChunks() {
        expectRequest(head + "5\r\nhello\r\n1\r\n,\r\n6\r\n world\r\n0\r\n\r\n") { request in
            #expect(request.body == bytes("hello, world"))
            #expect(request.head.headers["Transfer-Encoding"] == "chunked")
        }
    }

    @Test("chunk-size is hexadecimal, either case, with leading zeros")
    func hexSizes() {
        let data = String(repeating: "a", count: 26)
        expectRequest(head + "1a\r\n\(data)\r\n0\r\n\r\n") { #expect($0.body.count == 26) }
        expectRequest(head + "1A\r\n\(data)\r\n000\r\n\r\n") { #expect($0.body.count == 26) }
        expectRequest(head + "0000000000000000000000000001\r\nx\r\n0\r\n\r\n") { #expect($0.body == bytes("x")) }
    }

    @Test("an empty chunked body")
    func emptyBody() {
        expectRequest(head + "0\r\n\r\n") { #expect($0.body.isEmpty) }
    }

    @Test(
        "§7.1.1 chunk extensions are validated and ignored",
        arguments: [
            "5;name\r\n", "5;name=value\r\n", "5 ; name = value\r\n", "5;a=1;b;c=\"quoted \\\" string;\"\r\n",
            "5;\tx=\"\"\r\n", "5;ieof\r\n",
        ])
    func extensions(sizeLine: String) {
        expectRequest(head + sizeLine + "hello\r\n0;last=1\r\n\r\n") { #expect($0.body == bytes("hello")) }
    }

    @Test(
        "§7.1.1 malformed chunk extensions are 400",
        arguments: [
            "5;\r\n", "5;=v\r\n", "5;a=\r\n", "5;a=\"open\r\n", "5 x\r\n", "5;a b\r\n", "5;a=b c\r\n", "5 \r\n", "5;a=\"\u{1}\"\r\n",
        ])
    func malformedExtensions(sizeLine: String) {
        expectError(head + sizeLine + "hello\r\n0\r\n\r\n", status: 400)
    }

    @Test("§7.1.2 trailer fields are accepted and discarded")
    func trailers() {
        expectRequest(head + "3\r\nabc\r\n0\r\nX-Checksum: 123\r\nX-Other: a b\r\n\r\n") { request in
            #expect(request.body == bytes("abc"))
            #expect(request.head.headers["X-Checksum"] == nil)
        }
    }

    @Test("invalid trailer lines are 400", arguments: ["No-Colon", " folded: x", "X : y", "X: a\u{0}b"])
    func invalidTrailers(line: String) {
        expectError(head + "0\r\n\(line)\r\n\r\n", status: 400)
    }

    @Test("a trailer section beyond the head limit is 431")
    func trailerLimit() {
        let limits = HTTPParserLimits(maxHeadSize: 256)
        let trailer = "X-Big: " + String(repeating: "t", count: 300) + "\r\n"
        expectError(head + "0\r\n" + trailer + "\r\n", status: 431, limits: limits)
        let many = String(repeating: "X-T: 0123456789\r\n", count: 20)
        expectError(head + "0\r\n" + many + "\r\n", status: 431, limits: limits)
    }

    @Test("bare LF line endings in chunked framing are accepted")
    func bareLineFeeds() {
        expectRequest(head + "3\nabc\n0\nX: y\n\n") { #expect($0.body == bytes("abc")) }
    }

    @Test(
        "malformed chunk framing is 400",
        arguments: [
            "\r\nabc\r\n0\r\n\r\n",  // missing size
            "g\r\nabc\r\n0\r\n\r\n",  // not hex
            "-3\r\nabc\r\n0\r\n\r\n",
            "0x3\r\nabc\r\n0\r\n\r\n",
            "3\r\nabcd\r\n0\r\n\r\n",  // data longer than size
            "3\r\nabc\rX0\r\n\r\n",  // CR not followed by LF after data
            "3\rabc\r\n0\r\n\r\n",  // bare CR after size
        ])
    func malformedFraming(body: String) {
        expectError(head + body, status: 400)
    }

    @Test("a chunk-size that overflows 64 bits is 400, never a trap")
    func sizeOverflow() {
        expectError(head + "10000000000000000\r\nx\r\n", status: 400)
        expectError(head + "ffffffffffffffffffffffff\r\nx\r\n", status: 400)
    }

    @Test("a chunk-size beyond the body limit is 413 as soon as the size line is read")
    func sizeBeyondLimit() {
        expectError(head + "800001\r\n", status: 413)
        let limits = HTTPParserLimits(maxBodySize: 8)
        expectRequest(head + "4\r\nabcd\r\n4\r\nefgh\r\n0\r\n\r\n", limits: limits) { #expect($0.body == bytes("abcdefgh")) }
        expectError(head + "4\r\nabcd\r\n5\r\n", status: 413, limits: limits)
    }

    @Test("a chunk-size line longer than the limit is 400")
    func sizeLineLimit() {
        let limits = HTTPParserLimits(maxChunkLineSize: 64)
        expectError(head + "5;" + String(repeating: "a", count: 100), status: 400, limits: limits)
        expectError(head + "5;" + String(repeating: "a", count: 100) + "\r\nhello\r\n0\r\n\r\n", status: 400, limits: limits)
    }

    @Test("chunked requests pipeline; the next request starts right after the final CRLF")
    func pipelinedAfterChunked() {
        let text = head + "3\r\nabc\r\n0\r\n\r\n" + "GET /next HTTP/1.1\r\nHost: h\r\n\r\n"
        for feed in Feed.allCases {
            let run = parse(bytes(text), feed: feed)
            #expect(run.error == nil)
            #expect(run.requests.map(\.head.path) == ["/api/transactions", "/next"], "\(feed)")
            #expect(run.requests.first?.body == bytes("abc"))
        }
    }
}
