import Testing

@testable import HTTP1

@Suite("RFC 9112 §5 Field syntax")
struct FieldLineTests {
    @Test("fields keep order and duplicates; lookup ignores case; values are trimmed")
    func orderAndLookup() {
        let text =
            "GET / HTTP/1.1\r\nHost: h\r\nX-Multi: a\r\nx-multi:b\r\nX-Padded: \t value with  spaces \t \r\nX-Empty:\r\nX-Empty-Spaces:   \r\n\r\n"
        expectRequest(text) { request in
            let headers = request.head.headers
            #expect(headers.count == 6)
            #expect(headers.pairs.map(\.name) == ["Host", "X-Multi", "x-multi", "X-Padded", "X-Empty", "X-Empty-Spaces"])
            #expect(headers["x-MULTI"] == "a")
            #expect(headers.values("X-Multi") == ["a", "b"])
            #expect(headers["X-Padded"] == "value with  spaces")
            #expect(headers["X-Empty"] == "")
            #expect(headers["X-Empty-Spaces"] == "")
            #expect(headers["Missing"] == nil)
        }
    }

    @Test("well-known names keep the spelling they were sent with")
    func knownNameSpelling() {
        expectRequest("GET / HTTP/1.1\r\nhost: h\r\nCONTENT-TYPE: text/plain\r\nUser-Agent: t\r\n\r\n") { request in
            #expect(request.head.headers.pairs.map(\.name) == ["host", "CONTENT-TYPE", "User-Agent"])
            #expect(request.head.headers["Content-Type"] == "text/plain")
        }
    }

    @Test("obs-text (bytes 0x80–0xFF) is allowed in values")
    func obsText() {
        expectRequest("GET / HTTP/1.1\r\nHost: h\r\nX-Name: caf\u{E9} \u{263A}\r\n\r\n") { request in
            #expect(request.head.headers["X-Name"] == "caf\u{E9} \u{263A}")
        }
    }

    @Test("§5.1 whitespace between field name and colon is 400", arguments: ["Host : h", "Host\t: h", "X-A :b"])
    func whitespaceBeforeColon(line: String) {
        expectError("GET / HTTP/1.1\r\n\(line)\r\nHost: h\r\n\r\n", status: 400)
    }

    @Test("§5.2 obs-fold is 400")
    func obsFold() {
        expectError("GET / HTTP/1.1\r\nHost: h\r\nX-A: one\r\n two\r\n\r\n", status: 400)
        expectError("GET / HTTP/1.1\r\nHost: h\r\nX-A: one\r\n\ttwo\r\n\r\n", status: 400)
    }

    @Test("§2.2 whitespace between the request line and the first field is 400")
    func whitespaceBeforeFirstField() {
        expectError("GET / HTTP/1.1\r\n Host: h\r\n\r\n", status: 400)
    }

    @Test(
        "invalid field names and lines are 400",
        arguments: [
            ": empty-name", "No-Colon", "X(A): b", "X\u{0}A: b", "Caf\u{E9}: b", "X/A: b",
        ])
    func invalidFieldName(line: String) {
        expectError("GET / HTTP/1.1\r\nHost: h\r\n\(line)\r\n\r\n", status: 400)
    }

    @Test(
        "RFC 9110 §5.5 NUL and other CTLs in values are 400",
        arguments: [
            "X: a\u{0}b", "X: \u{1}", "X: a\u{7F}", "X: a\u{1B}[31m", "X: \u{0}",
        ])
    func controlCharactersInValue(line: String) {
        expectError("GET / HTTP/1.1\r\nHost: h\r\n\(line)\r\n\r\n", status: 400)
    }

    @Test("HTAB inside a value is kept")
    func tabInValue() {
        expectRequest("GET / HTTP/1.1\r\nHost: h\r\nX: a\tb\r\n\r\n") { #expect($0.head.headers["X"] == "a\tb") }
    }

    @Test("§3.2 an HTTP/1.1 request without Host is 400; HTTP/1.0 may omit it")
    func hostRequired() {
        expectError("GET / HTTP/1.1\r\n\r\n", status: 400)
        expectError("GET / HTTP/1.1\r\nX-Host: h\r\n\r\n", status: 400)
        expectRequest("GET / HTTP/1.0\r\n\r\n") { #expect($0.head.headers["Host"] == nil) }
        expectRequest("GET / HTTP/1.1\r\nHost:\r\n\r\n") { #expect($0.head.headers["Host"] == "") }
    }

    @Test("§3.2 more than one Host field line is 400, in any version")
    func duplicateHost() {
        expectError("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", status: 400)
        expectError("GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n", status: 400)
    }

    @Test("§3.2 an invalid Host value is 400", arguments: ["a b", "a/b", "a@b", "a?b", "\u{E9}.com", "a\"b"])
    func invalidHost(value: String) {
        expectError("GET / HTTP/1.1\r\nHost: \(value)\r\n\r\n", status: 400)
    }

    @Test("valid Host values", arguments: ["example.com", "example.com:8080", "[::1]:8080", "127.0.0.1", "xn--caf-dma.example"])
    func validHost(value: String) {
        expectRequest("GET / HTTP/1.1\r\nHost: \(value)\r\n\r\n") { #expect($0.head.headers["Host"] == value) }
    }

    @Test("the number of fields is limited: more than maxHeaderCount is 431")
    func headerCountLimit() {
        let limits = HTTPParserLimits(maxHeaderCount: 10)
        let nine = (1...9).map { "X-\($0): v\r\n" }.joined()
        expectRequest("GET / HTTP/1.1\r\nHost: h\r\n\(nine)\r\n", limits: limits) { #expect($0.head.headers.count == 10) }
        expectError("GET / HTTP/1.1\r\nHost: h\r\n\(nine)X-10: v\r\n\r\n", status: 431, limits: limits)
        let defaultLimit = (1...100).map { "X-\($0): v\r\n" }.joined()
        expectError("GET / HTTP/1.1\r\nHost: h\r\n\(defaultLimit)\r\n", status: 431)
    }
}
