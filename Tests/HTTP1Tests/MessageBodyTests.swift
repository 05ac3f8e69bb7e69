import Testing

@testable import HTTP1

@Suite("RFC 9112 §6 Message body length")
struct MessageBodyTests {
    let json = #"{"investorId":"i1","syndicateId":"s1","amount":"12.50"}"#

    @Test("§6.3 rule 6: Content-Length gives the body length")
    func contentLength() {
        expectRequest(
            "POST /api/transactions HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: \(json.utf8.count)\r\n\r\n\(json)"
        ) { request in
            #expect(request.head.method == "POST")
            #expect(request.body == Array(json.utf8))
        }
    }

    @Test("§6.3 rule 7: a request without Content-Length or Transfer-Encoding has no body")
    func noBody() {
        let run = parse(bytes("POST /x HTTP/1.1\r\nHost: h\r\n\r\nGET /y HTTP/1.1\r\nHost: h\r\n\r\n"), feed: .whole)
        #expect(run.requests.map(\.head.path) == ["/x", "/y"])
        #expect(run.requests.allSatisfy { $0.body.isEmpty })
    }

    @Test("Content-Length: 0 and leading zeros")
    func zeroAndLeadingZeros() {
        expectRequest("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n") { #expect($0.body.isEmpty) }
        expectRequest("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0003\r\n\r\nabc") { #expect($0.body == bytes("abc")) }
    }

    @Test("RFC 9110 §8.6 repeated identical Content-Length values are accepted")
    func identicalLengths() {
        expectRequest("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 3\r\n\r\nabc") { #expect($0.body == bytes("abc")) }
        expectRequest("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc") {
            #expect($0.body == bytes("abc"))
        }
    }

    @Test("§6.3 rule 5: differing Content-Length values are 400")
    func differingLengths() {
        expectError("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 4\r\n\r\nabcd", status: 400)
        expectError("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", status: 400)
    }

    @Test(
        "§6.3 rule 5: an invalid Content-Length is 400",
        arguments: [
            "-1", "+3", "1.5", "abc", "", "3,", ",3", "0x10", "3 3", "1e3", "٣",
        ])
    func invalidLength(value: String) {
        expectError("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: \(value)\r\n\r\nabc", status: 400)
    }

    @Test("a Content-Length beyond the body limit is 413 at once, before any body arrives")
    func lengthBeyondLimit() {
        expectError("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 8388609\r\n\r\n", status: 413)
        expectError("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999999\r\n\r\n", status: 413)
        let limits = HTTPParserLimits(maxBodySize: 10)
        expectRequest("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789", limits: limits) { #expect($0.body.count == 10) }
        expectError("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n", status: 413, limits: limits)
    }

    @Test("an 8 MiB body is accepted; one byte more is 413")
    func bodyLimitExact() {
        let body = [UInt8](repeating: UInt8(ascii: "x"), count: 8 * 1024 * 1024)
        let head = bytes("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: \(body.count)\r\n\r\n")
        var parser = HTTPRequestParser()
        let result = (head + body).withUnsafeBytes { parser.parse($0) }
        guard case .request(let request, let consumed) = result else {
            Issue.record("expected a request, got \(result)")
            return
        }
        #expect(consumed == head.count + body.count)
        #expect(request.body.count == body.count)
        let tooLarge = bytes("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: \(body.count + 1)\r\n\r\n")
        let tooLargeResult = tooLarge.withUnsafeBytes { parser.parse($0) }
        guard case .error(let error) = tooLargeResult else {
            Issue.record("expected 413, got \(tooLargeResult)")
            return
        }
        #expect(error.status == 413)
    }

    @Test("§6.3 rule 3: Transfer-Encoding together with Content-Length is 400 (request smuggling)")
    func transferEncodingAndLength() {
        expectError("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status: 400)
        expectError("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n0\r\n\r\n", status: 400)
    }

    @Test(
        "§6.3 rule 4: chunked not the final coding is 400",
        arguments: [
            "gzip", "chunked, gzip", "identity", "", "chunked;q=1, x",
        ])
    func chunkedNotFinal(value: String) {
        expectError("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \(value)\r\n\r\n0\r\n\r\n", status: 400)
    }

    @Test("§6.1 chunked applied twice is 400")
    func chunkedTwice() {
        expectError("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", status: 400)
        expectError("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status: 400)
    }

    @Test("§6.1 a coding this server does not implement before chunked is 501")
    func unknownCoding() {
        expectError("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", status: 501)
        expectError("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status: 501)
    }

    @Test("§6.1 Transfer-Encoding in an HTTP/1.0 request is 400")
    func transferEncodingInHTTP1_0() {
        expectError("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status: 400)
    }

    @Test("Transfer-Encoding tokens are case-insensitive and may carry parameters")
    func transferEncodingSpelling() {
        expectRequest("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: CHUNKED\r\n\r\n3\r\nabc\r\n0\r\n\r\n") {
            #expect($0.body == bytes("abc"))
        }
        expectRequest("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: , chunked ,\r\n\r\n0\r\n\r\n") { #expect($0.body.isEmpty) }
    }

    @Test("a body arriving in pieces is consumed as it arrives and the parser never reads past it")
    func incrementalBody() {
        var parser = HTTPRequestParser()
        let head = bytes("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n")
        var result = (head + bytes("0123")).withUnsafeBytes { parser.parse($0) }
        guard case .needMore(let consumed, let sendContinue) = result else {
            Issue.record("expected needMore, got \(result)")
            return
        }
        #expect(consumed == head.count + 4)
        #expect(!sendContinue)
        #expect(!parser.isIdle)
        result = bytes("456789GET").withUnsafeBytes { parser.parse($0) }
        guard case .request(let request, let finalConsumed) = result else {
            Issue.record("expected request, got \(result)")
            return
        }
        #expect(finalConsumed == 6)
        #expect(request.body == bytes("0123456789"))
        #expect(parser.isIdle)
        #expect(parser.body.capacity == 0)
    }
}
