import Testing

@testable import HTTP1

/// The head-first admission check (`parse(_:admit:)`): a server decides from the head whether a
/// body is read at all and how large it may be, before buffering any of it.
@Suite("Admission decided from the head")
struct AdmissionTests {
    @Test("a refused request consumes only its head, never signals 100 Continue, and stops the parser", arguments: Feed.allCases)
    func refusedBeforeBody(feed: Feed) {
        let head = "POST /api/transactions HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"
        let input = bytes(head + "hello" + "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        var asked = 0
        let run = parse(input, feed: feed) { _ in
            asked += 1
            return .refuse
        }
        #expect(asked == 1)
        #expect(run.refused?.path == "/api/transactions")
        #expect(run.continues == 0)
        #expect(run.requests.isEmpty)
        // The unread body stays with the caller (who answers and closes the connection).
        if feed == .whole { #expect(String(decoding: run.leftover.prefix(5), as: UTF8.self) == "hello") }
    }

    @Test("Content-Length above the admitted limit is 413 at once, with no body byte sent", arguments: Feed.allCases)
    func lengthOverRouteLimit(feed: Feed) {
        let input = bytes("POST /api/publish HTTP/1.1\r\nHost: h\r\nContent-Length: 2000000\r\n\r\n")
        let run = parse(input, feed: feed) { _ in .accept(maxBodySize: 65_536) }
        #expect(run.error?.status == 413)
        #expect(run.continues == 0)
    }

    @Test("a chunked body is cut off with 413 as soon as its chunks pass the admitted limit", arguments: Feed.allCases)
    func chunkedOverRouteLimit(feed: Feed) {
        let chunk = "400\r\n" + String(repeating: "a", count: 1024) + "\r\n"
        let input = bytes("POST /p HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk + chunk + "0\r\n\r\n")
        let run = parse(input, feed: feed) { _ in .accept(maxBodySize: 1_500) }
        #expect(run.error?.status == 413)
        #expect(run.requests.isEmpty)
    }

    @Test("an admitted body up to its limit is read; the limit resets for the next request", arguments: Feed.allCases)
    func limitIsPerRequest(feed: Feed) {
        let small = "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nabcd"
        let large = "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789"
        let run = parse(bytes(small + large), feed: feed) { head in .accept(maxBodySize: head.path == "/a" ? 4 : 100) }
        #expect(run.error == nil)
        #expect(run.requests.map(\.body.count) == [4, 10])
    }

    @Test("the parser's own body limit still applies when the admission allows more")
    func parserLimitStillApplies() {
        let input = bytes("POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 101\r\n\r\n")
        let run = parse(input, feed: .whole, limits: HTTPParserLimits(maxBodySize: 100)) { _ in .accept(maxBodySize: .max) }
        #expect(run.error?.status == 413)
    }

    @Test("requests without a body are not asked about: the caller decides them when they complete")
    func bodylessRequestsSkipAdmission() {
        var asked = 0
        let run = parse(bytes("GET / HTTP/1.1\r\nHost: h\r\n\r\nPOST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"), feed: .whole) {
            _ in
            asked += 1
            return .refuse
        }
        #expect(asked == 0)
        #expect(run.requests.count == 2)
    }
}
