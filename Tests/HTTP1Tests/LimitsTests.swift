import Testing

@testable import HTTP1

@Suite("Parser limits and incremental scanning")
struct LimitsTests {
    /// A request line plus one long field: `total` bytes of head that are not yet terminated.
    func unterminatedHead(total: Int) -> [UInt8] {
        let start = bytes("GET / HTTP/1.1\r\nHost: h\r\nX-Long: ")
        return start + [UInt8](repeating: UInt8(ascii: "a"), count: total - start.count)
    }

    @Test("431 as soon as the buffered head exceeds 16 KiB, without waiting for its end")
    func headLimitImmediate() {
        var parser = HTTPRequestParser()
        let atLimit = unterminatedHead(total: 16 * 1024)
        guard case .needMore(0, false) = atLimit.withUnsafeBytes({ parser.parse($0) }) else {
            Issue.record("16 KiB of unterminated head must still be acceptable")
            return
        }
        let overLimit = atLimit + [UInt8(ascii: "a")]
        guard case .error(let error) = overLimit.withUnsafeBytes({ parser.parse($0) }) else {
            Issue.record("one byte over the head limit must fail at once")
            return
        }
        #expect(error.status == 431)
    }

    @Test("431 in every feed mode, including one huge buffer")
    func headLimitAllFeeds() {
        expectError(String(decoding: unterminatedHead(total: 20_000), as: UTF8.self), status: 431)
        let huge = unterminatedHead(total: 100_000) + bytes("\r\n\r\n")
        #expect(parse(huge, feed: .whole).error?.status == 431)
    }

    @Test("a head of exactly the limit is accepted; one byte more is 431")
    func headExactlyAtLimit() {
        let limits = HTTPParserLimits(maxHeadSize: 100)
        let prefix = "GET / HTTP/1.1\r\nHost: h\r\nX: "
        let fill = 100 - prefix.utf8.count - 4
        let exact = prefix + String(repeating: "v", count: fill) + "\r\n\r\n"
        #expect(exact.utf8.count == 100)
        expectRequest(exact, limits: limits) { #expect($0.head.headers["X"]?.utf8.count == fill) }
        let over = prefix + String(repeating: "v", count: fill + 1) + "\r\n\r\n"
        expectError(over, status: 431, limits: limits)
        // The field's LF lies inside the limit, the final CR LF outside: still too large.
        #expect(over.utf8.count == 101)
        expectRequest(prefix + String(repeating: "v", count: fill - 1) + "\r\n\r\n", limits: limits)
    }

    @Test("the head search resumes where it stopped instead of rescanning")
    func searchResumes() {
        var parser = HTTPRequestParser()
        var buffer = bytes("GET / HTTP/1.1\r\nHost: h\r\n")
        _ = buffer.withUnsafeBytes { parser.parse($0) }
        // Everything up to the last LF (which needs a look-ahead byte) was searched.
        #expect(parser.scanned == buffer.count - 1)
        buffer += bytes("X-Long: ") + [UInt8](repeating: UInt8(ascii: "b"), count: 1000)
        _ = buffer.withUnsafeBytes { parser.parse($0) }
        #expect(parser.scanned == buffer.count)
        buffer += bytes("\r\n\r\n")
        guard case .request(let request, let consumed) = buffer.withUnsafeBytes({ parser.parse($0) }) else {
            Issue.record("expected request")
            return
        }
        #expect(consumed == buffer.count)
        #expect(request.head.headers["X-Long"]?.utf8.count == 1000)
        #expect(parser.scanned == 0)
    }

    @Test("a 16 KiB head fed one byte at a time parses (no quadratic rescanning)")
    func byteByByteLargeHead() {
        let fields = (0..<160).map { "X-Field-\($0): " + String(repeating: "v", count: 80) + "\r\n" }.joined()
        let text = "GET / HTTP/1.1\r\nHost: h\r\n" + fields.prefix(16_000) + "\r\n\r\n"
        let limits = HTTPParserLimits(maxHeaderCount: 1000)
        let run = parse(bytes(text), feed: .byteByByte, limits: limits)
        #expect(run.error == nil)
        #expect(run.requests.count == 1)
    }

    @Test("the body buffer exists only while a body is in progress")
    func bodyBufferReleased() {
        var parser = HTTPRequestParser()
        _ = bytes("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1000\r\n\r\nabc").withUnsafeBytes { parser.parse($0) }
        #expect(parser.body.capacity >= 1000)
        let rest = [UInt8](repeating: 0x41, count: 997)
        guard case .request(let request, _) = rest.withUnsafeBytes({ parser.parse($0) }) else {
            Issue.record("expected request")
            return
        }
        #expect(request.body.count == 1000)
        #expect(parser.body.capacity == 0)
    }

    @Test("limits have the documented defaults")
    func defaults() {
        let limits = HTTPParserLimits()
        #expect(limits.maxHeadSize == 16 * 1024)
        #expect(limits.maxBodySize == 8 * 1024 * 1024)
        #expect(limits.maxHeaderCount == 100)
    }
}
