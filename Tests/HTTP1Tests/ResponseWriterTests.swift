import Basics
import Testing

@testable import HTTP1

@Suite("RFC 9112 §4 Status line and response serialization")
struct ResponseWriterTests {
    let date = "Sun, 06 Nov 1994 08:49:37 GMT"

    func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test("golden bytes: 200 with a body, kept alive")
    func okKeepAlive() {
        let response = HTTPResponse(status: 200, headers: ["Content-Type": "text/plain"], body: bytes("hello"))
        let wire = HTTPResponseWriter.serialize(response, date: date, keepAlive: true)
        #expect(
            text(wire)
                == "HTTP/1.1 200 OK\r\nServer: syndicast\r\nDate: \(date)\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello")
    }

    @Test("golden bytes: Connection: close when not kept alive")
    func close() {
        let wire = HTTPResponseWriter.serialize(HTTPResponse(status: 404), date: date, keepAlive: false)
        #expect(
            text(wire) == "HTTP/1.1 404 Not Found\r\nServer: syndicast\r\nDate: \(date)\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    }

    @Test("RFC 9110 §9.3.2 HEAD: same headers, no body")
    func headOnly() {
        let response = HTTPResponse.json(200, #"{"a":1}"#)
        let head = HTTPResponseWriter.serialize(response, date: date, keepAlive: true, headOnly: true)
        let get = HTTPResponseWriter.serialize(response, date: date, keepAlive: true)
        #expect(
            text(head)
                == "HTTP/1.1 200 OK\r\nServer: syndicast\r\nDate: \(date)\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n")
        #expect(text(get) == text(head) + #"{"a":1}"#)
    }

    @Test("RFC 9110 §8.6 no Content-Length and no body for 1xx, 204 and 304", arguments: [101, 204, 304])
    func noContent(status: Int) {
        let response = HTTPResponse(status: status, headers: ["ETag": "\"x\""], body: bytes("ignored"))
        let wire = text(HTTPResponseWriter.serialize(response, date: date, keepAlive: true))
        #expect(!wire.contains("Content-Length"))
        #expect(wire.hasSuffix("ETag: \"x\"\r\n\r\n"))
        #expect(wire.hasPrefix("HTTP/1.1 \(status) \(HTTPStatus.reasonPhrase(status))\r\n"))
    }

    @Test("headers the response sets itself are not duplicated")
    func noDuplicates() {
        let response = HTTPResponse(
            status: 200, headers: ["Server": "other", "Date": "x", "Content-Length": "3", "Connection": "close"], body: bytes("abc"))
        let wire = text(HTTPResponseWriter.serialize(response, date: date, keepAlive: false))
        #expect(wire == "HTTP/1.1 200 OK\r\nServer: other\r\nDate: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc")
    }

    @Test("a kept-alive HTTP/1.0 exchange says Connection: keep-alive")
    func http1_0KeepAlive() {
        let wire = text(HTTPResponseWriter.serialize(HTTPResponse(status: 204), date: date, keepAlive: true, requestVersion: .http1_0))
        #expect(wire == "HTTP/1.1 204 No Content\r\nServer: syndicast\r\nDate: \(date)\r\nConnection: keep-alive\r\n\r\n")
    }

    @Test("CR, LF and NUL in header values cannot split the response")
    func headerInjection() {
        let response = HTTPResponse(status: 200, headers: ["X-Echo": "a\r\nSet-Cookie: evil\u{0}"])
        let wire = text(HTTPResponseWriter.serialize(response, date: date, keepAlive: true))
        #expect(wire.contains("X-Echo: a  Set-Cookie: evil \r\n"))
        #expect(!wire.contains("\r\nSet-Cookie"))
    }

    @Test("the 100 Continue interim response")
    func continueResponse() {
        #expect(text(HTTPResponseWriter.continueResponse) == "HTTP/1.1 100 Continue\r\n\r\n")
    }

    @Test(
        "reason phrases",
        arguments: [
            (200, "OK"), (201, "Created"), (304, "Not Modified"), (400, "Bad Request"), (405, "Method Not Allowed"),
            (413, "Content Too Large"), (415, "Unsupported Media Type"), (429, "Too Many Requests"),
            (431, "Request Header Fields Too Large"), (501, "Not Implemented"), (503, "Service Unavailable"),
            (505, "HTTP Version Not Supported"), (299, "Success"), (499, "Client Error"), (599, "Server Error"),
        ])
    func reasons(status: Int, phrase: String) {
        #expect(HTTPStatus.reasonPhrase(status) == phrase)
    }

    @Test("json and text helpers")
    func helpers() {
        let json = HTTPResponse.json(201, #"{"accepted":1}"#, headers: ["Location": "/x"])
        #expect(json.status == 201)
        #expect(json.headers["Content-Type"] == "application/json")
        #expect(json.headers["Location"] == "/x")
        let plain = HTTPResponse.text(200, "ok")
        #expect(plain.headers["Content-Type"] == "text/plain; charset=utf-8")
        #expect(plain.body == bytes("ok"))
    }

    @Test("JSON escaping of every control character")
    func jsonControlCharacters() {
        let all = String(decoding: (0..<0x20).map { UInt8($0) }, as: UTF8.self)
        let quoted = JSONEscaping.quoted(all)
        #expect(quoted.utf8.allSatisfy { $0 >= 0x20 })
        #expect(quoted.hasPrefix(#""\u0000\u0001"#))
        #expect(quoted.contains(#"\b\t\n\u000b\f\r"#))
    }
}
