import Testing

@testable import HTTP1

@Suite("RFC 9112 §3 Request line")
struct RequestLineTests {
    @Test("origin-form GET with path and query")
    func originForm() {
        expectRequest("GET /api/rankings?limit=5&x=a%20b HTTP/1.1\r\nHost: example.com\r\n\r\n") { request in
            #expect(request.head.method == "GET")
            #expect(request.head.target == "/api/rankings?limit=5&x=a%20b")
            #expect(request.head.path == "/api/rankings")
            #expect(request.head.query == "limit=5&x=a%20b")
            #expect(request.head.version == .http1_1)
            #expect(request.body.isEmpty)
        }
    }

    @Test("target without query has nil query; empty query is empty string")
    func queryPresence() {
        expectRequest("GET /a/b HTTP/1.1\r\nHost: h\r\n\r\n") { request in
            #expect(request.head.path == "/a/b")
            #expect(request.head.query == nil)
        }
        expectRequest("GET /a? HTTP/1.1\r\nHost: h\r\n\r\n") { request in
            #expect(request.head.path == "/a")
            #expect(request.head.query == "")
        }
        expectRequest("GET /a?b?c HTTP/1.1\r\nHost: h\r\n\r\n") { request in
            #expect(request.head.query == "b?c")
        }
    }

    @Test("§3.2.2 absolute-form: path is taken after the authority")
    func absoluteForm() {
        expectRequest("GET http://example.com:8080/x/y?z=1 HTTP/1.1\r\nHost: example.com:8080\r\n\r\n") { request in
            #expect(request.head.target == "http://example.com:8080/x/y?z=1")
            #expect(request.head.path == "/x/y")
            #expect(request.head.query == "z=1")
        }
        expectRequest("GET http://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n") { request in
            #expect(request.head.path == "/")
            #expect(request.head.query == nil)
        }
    }

    @Test("§3.2.3 authority-form and §3.2.4 asterisk-form")
    func authorityAndAsteriskForms() {
        expectRequest("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n") { request in
            #expect(request.head.method == "CONNECT")
            #expect(request.head.path == "example.com:443")
        }
        expectRequest("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n") { request in
            #expect(request.head.method == "OPTIONS")
            #expect(request.head.path == "*")
        }
    }

    @Test(
        "registered and extension methods are tokens, case-sensitive",
        arguments: [
            "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "PROPFIND", "get", "M-SEARCH",
            "X!#$%&'*+.^_`|~1",
        ])
    func methods(method: String) {
        expectRequest("\(method) / HTTP/1.1\r\nHost: h\r\n\r\n") { request in
            #expect(request.head.method == method)
        }
    }

    @Test("§2.3 HTTP/1.0 and HTTP/1.1; a higher 1.x minor is accepted")
    func versions() {
        expectRequest("GET / HTTP/1.0\r\n\r\n") { #expect($0.head.version == .http1_0) }
        expectRequest("GET / HTTP/1.1\r\nHost: h\r\n\r\n") { #expect($0.head.version == .http1_1) }
        expectRequest("GET / HTTP/1.9\r\nHost: h\r\n\r\n") { request in
            #expect(request.head.version == HTTPVersion(major: 1, minor: 9))
            #expect(request.head.version.isAtLeastHTTP1_1)
            #expect(request.head.keepAlive)
        }
    }

    @Test("a major version other than 1 is 505", arguments: ["HTTP/2.0", "HTTP/3.0", "HTTP/0.9", "HTTP/9.9"])
    func unsupportedMajor(version: String) {
        expectError("GET / \(version)\r\nHost: h\r\n\r\n", status: 505)
    }

    @Test(
        "§2.3 malformed versions are 400 (HTTP-name is case-sensitive)",
        arguments: [
            "http/1.1", "HTTP/1", "HTTP/11", "HTTP/1.1.1", "HTTP/1.x", "HTTP 1.1", "HTTP/1.1 ", "HTTP/a.1", "HTTP/10.1", "",
        ])
    func malformedVersion(version: String) {
        expectError("GET / \(version)\r\nHost: h\r\n\r\n", status: 400)
    }

    @Test(
        "malformed request lines are 400",
        arguments: [
            "GET  / HTTP/1.1",  // two spaces
            " GET / HTTP/1.1",  // leading space
            "GET / HTTP/1.1 extra",
            "GET /",
            "GET",
            "GET\t/ HTTP/1.1",  // HTAB is not SP
            "G(T / HTTP/1.1",  // "(" is a delimiter, not a tchar
            "GÉT / HTTP/1.1",  // non-ASCII method
            "GET /a b HTTP/1.1",  // space in target
            "GET /a\u{1}b HTTP/1.1",  // CTL in target
            "GET /a\u{7F} HTTP/1.1",  // DEL in target
            "GET /é HTTP/1.1",  // non-ASCII in target
            "GET\u{0}/ HTTP/1.1",
            " / HTTP/1.1",  // empty method
            "GET HTTP/1.1",
        ])
    func malformedRequestLine(line: String) {
        expectError("\(line)\r\nHost: h\r\n\r\n", status: 400)
    }

    @Test("§2.2 empty lines before the request line are ignored")
    func leadingEmptyLines() {
        expectRequest("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n") { #expect($0.head.path == "/") }
        expectRequest("\nGET / HTTP/1.1\r\nHost: h\r\n\r\n") { #expect($0.head.path == "/") }
    }

    @Test("§2.2 a bare LF line terminator is accepted; a preceding CR is ignored")
    func bareLineFeed() {
        expectRequest("GET /lf HTTP/1.1\nHost: h\nX-A: 1\n\n") { request in
            #expect(request.head.path == "/lf")
            #expect(request.head.headers["X-A"] == "1")
            #expect(request.head.headers.count == 2)
        }
        expectRequest("GET /mixed HTTP/1.1\r\nHost: h\nX-A: 1\r\n\n") { request in
            #expect(request.head.headers["X-A"] == "1")
        }
    }

    @Test(
        "§2.2 a bare CR is rejected",
        arguments: [
            "GET / HTTP/1.1\rHost: h\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: h\r\n\r\r\n\r\n",
            "\rGET / HTTP/1.1\r\nHost: h\r\n\r\n",
        ])
    func bareCarriageReturn(text: String) {
        expectError(text, status: 400)
    }
}
