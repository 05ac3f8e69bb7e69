import Testing

@testable import HTTP1

@Suite("RFC 9112 §9.3 Persistence, RFC 9110 §7.8 Upgrade")
struct ConnectionTests {
    @Test(
        "keep-alive defaults and Connection options",
        arguments: [
            ("HTTP/1.1", "", true),
            ("HTTP/1.1", "Connection: close\r\n", false),
            ("HTTP/1.1", "Connection: Keep-Alive, CLOSE\r\n", false),
            ("HTTP/1.1", "Connection: keep-alive\r\n", true),
            ("HTTP/1.1", "Connection: foo\r\nConnection: close\r\n", false),
            ("HTTP/1.1", "Connection: closed\r\n", true),
            ("HTTP/1.0", "", false),
            ("HTTP/1.0", "Connection: keep-alive\r\n", true),
            ("HTTP/1.0", "Connection: foo , Keep-Alive\r\n", true),
            ("HTTP/1.0", "Connection: keep-alive, close\r\n", false),
            ("HTTP/1.0", "Connection: close\r\n", false),
        ])
    func keepAlive(version: String, fields: String, expected: Bool) {
        expectRequest("GET / \(version)\r\nHost: h\r\n\(fields)\r\n") { request in
            #expect(request.head.keepAlive == expected)
            // The public initializer derives the same answer from the headers.
            let rebuilt = HTTPRequestHead(method: "GET", target: "/", version: request.head.version, headers: request.head.headers)
            #expect(rebuilt.keepAlive == expected)
        }
    }

    @Test("an Upgrade request is recognized and the bytes after its head are left unconsumed")
    func upgradeLeavesFollowingBytes() {
        let head =
            "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        let frame: [UInt8] = [0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58]
        var parser = HTTPRequestParser()
        let input = bytes(head) + frame
        let result = input.withUnsafeBytes { parser.parse($0) }
        guard case .request(let request, let consumed) = result else {
            Issue.record("expected request, got \(result)")
            return
        }
        #expect(request.head.isUpgradeRequest)
        #expect(request.head.headers["Sec-WebSocket-Key"] == "dGhlIHNhbXBsZSBub25jZQ==")
        #expect(consumed == head.utf8.count)
        #expect(Array(input[consumed...]) == frame)
    }

    @Test("Upgrade needs both the field and the Connection option, and is ignored in HTTP/1.0")
    func upgradeRules() {
        expectRequest("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n") { #expect(!$0.head.isUpgradeRequest) }
        expectRequest("GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\n\r\n") { #expect(!$0.head.isUpgradeRequest) }
        expectRequest("GET / HTTP/1.1\r\nHost: h\r\nupgrade: websocket\r\nconnection: UPGRADE\r\n\r\n") {
            #expect($0.head.isUpgradeRequest)
        }
        expectRequest("GET / HTTP/1.0\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n") { #expect(!$0.head.isUpgradeRequest) }
    }

    @Test("RFC 9110 §10.1.1 Expect: 100-continue asks for 100 exactly once while the body is pending")
    func expectContinue() {
        var parser = HTTPRequestParser()
        let head = bytes("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
        var result = head.withUnsafeBytes { parser.parse($0) }
        guard case .needMore(head.count, sendContinue: true) = result else {
            Issue.record("expected needMore with continue, got \(result)")
            return
        }
        result = bytes("ab").withUnsafeBytes { parser.parse($0) }
        guard case .needMore(2, sendContinue: false) = result else {
            Issue.record("expected needMore without continue, got \(result)")
            return
        }
        result = bytes("cd").withUnsafeBytes { parser.parse($0) }
        guard case .request(let request, consumed: 2) = result else {
            Issue.record("expected request, got \(result)")
            return
        }
        #expect(request.body == bytes("abcd"))
    }

    @Test("100-continue in every feed mode: at most once per request, never when the body is already here")
    func expectContinueFeeds() {
        let text = "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
        #expect(parse(bytes(text), feed: .whole).continues == 0)
        #expect(parse(bytes(text), feed: .byteByByte).continues == 1)
        #expect(parse(bytes(text + text + text), feed: .byteByByte).continues == 3)
        #expect(parse(bytes(text + text + text), feed: .sevenBytes).continues == 3)
    }

    @Test("no 100-continue for HTTP/1.0, without a body, or for other expectations")
    func noContinue() {
        for text in [
            "POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
            "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: h\r\nExpect: something-else\r\nContent-Length: 3\r\n\r\nabc",
        ] {
            #expect(parse(bytes(text), feed: .byteByByte).continues == 0, "\(text)")
            #expect(parse(bytes(text), feed: .byteByByte).requests.count == 1, "\(text)")
        }
    }

    @Test("isIdle: true between requests, false once the next one has started")
    func idle() {
        var parser = HTTPRequestParser()
        #expect(parser.isIdle)
        _ = bytes("GET / HT").withUnsafeBytes { parser.parse($0) }
        #expect(!parser.isIdle)
        _ = bytes("GET / HTTP/1.1\r\nHost: h\r\n\r\n").withUnsafeBytes { parser.parse($0) }
        #expect(parser.isIdle)
        _ = bytes("\r\n").withUnsafeBytes { parser.parse($0) }
        #expect(parser.isIdle)
    }

    @Test("many pipelined requests of mixed kinds in one buffer come out in order")
    func mixedPipeline() {
        var text = ""
        for index in 0..<50 {
            switch index % 3 {
            case 0: text += "GET /get/\(index) HTTP/1.1\r\nHost: h\r\n\r\n"
            case 1: text += "POST /post/\(index) HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n\(index % 10)\(index % 10)"
            default: text += "PUT /put/\(index) HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1;x=y\r\nz\r\n0\r\nT: 1\r\n\r\n"
            }
        }
        for feed in Feed.allCases {
            let run = parse(bytes(text), feed: feed)
            #expect(run.error == nil)
            #expect(run.requests.count == 50, "\(feed)")
            for (index, request) in run.requests.enumerated() {
                #expect(request.head.path.hasSuffix("/\(index)"))
                switch index % 3 {
                case 0: #expect(request.body.isEmpty)
                case 1: #expect(request.body == bytes("\(index % 10)\(index % 10)"))
                default: #expect(request.body == bytes("z"))
                }
            }
        }
    }
}
