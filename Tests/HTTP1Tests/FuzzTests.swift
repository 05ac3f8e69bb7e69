import SeededRandom
import Testing

@testable import HTTP1

@Suite("Randomized input")
struct FuzzTests {
    /// Parses `input` in every feed mode; all must agree on requests and error status.
    func checkConsistent(_ input: [UInt8], limits: HTTPParserLimits = .init()) {
        let whole = parse(input, feed: .whole, limits: limits)
        for feed in [Feed.byteByByte, .sevenBytes] {
            let other = parse(input, feed: feed, limits: limits)
            #expect(other.requests.count == whole.requests.count, "\(feed) on \(input)")
            #expect(other.error?.status == whole.error?.status, "\(feed) on \(input)")
            #expect(other.requests.map(\.body) == whole.requests.map(\.body), "\(feed) on \(input)")
        }
        if let error = whole.error {
            #expect([400, 413, 431, 501, 505].contains(error.status))
        }
    }

    @Test("random bytes never crash the parser and always give a result", arguments: 0..<4)
    func randomBytes(seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        let alphabets: [[UInt8]] = [
            Array(0...255),
            bytes("GET POST / HTTP/1.1\r\n:; ,=\"\\0123456789abcdefABCDEF-Host Content-Length Transfer-Encoding chunked\t"),
            bytes("\r\n0123456789abcdef;=\" "),
        ]
        for _ in 0..<500 {
            let alphabet = alphabets[Int.random(in: 0..<alphabets.count, using: &generator)]
            let length = Int.random(in: 0...300, using: &generator)
            let input = (0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }
            checkConsistent(input, limits: HTTPParserLimits(maxHeadSize: 200, maxBodySize: 100, maxHeaderCount: 8, maxChunkLineSize: 40))
        }
    }

    @Test("mutated valid requests never crash and every feed mode agrees", arguments: 0..<4)
    func mutatedRequests(seed: UInt64) {
        var generator = SeededGenerator(seed: seed &+ 1000)
        let seeds = [
            "POST /api/transactions?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello",
            "PUT /p HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\"b\"\r\nhello\r\n0\r\nT: v\r\n\r\n",
            "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
            "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        ].map(bytes)
        let interesting = bytes("\r\n :;,0f\"\t\u{0}9-")
        for _ in 0..<500 {
            var input = seeds[Int.random(in: 0..<seeds.count, using: &generator)]
            input += input
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let position = Int.random(in: 0..<input.count, using: &generator)
                switch Int.random(in: 0..<4, using: &generator) {
                case 0: input[position] = UInt8.random(in: 0...255, using: &generator)
                case 1: input[position] = interesting[Int.random(in: 0..<interesting.count, using: &generator)]
                case 2: input.remove(at: position)
                default: input.insert(interesting[Int.random(in: 0..<interesting.count, using: &generator)], at: position)
                }
            }
            checkConsistent(input)
        }
    }

    @Test("huge numbers in every numeric position never trap")
    func hugeNumbers() {
        let big = String(repeating: "9", count: 400)
        let hex = String(repeating: "f", count: 400)
        checkConsistent(bytes("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: \(big)\r\n\r\n"))
        checkConsistent(bytes("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n\(hex)\r\n"))
        checkConsistent(bytes("GET / HTTP/\(big).1\r\nHost: h\r\n\r\n"))
    }
}
