import Glibc
import Testing

@testable import HTTP1

/// A temporary directory tree removed when the test ends.
final class TemporaryDirectory {
    let path: String

    init() {
        var template = Array("/tmp/syndicast-static-XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress.flatMap { mkdtemp($0) }
        }
        path = created.map { String(cString: $0) } ?? "/tmp/syndicast-static-failed"
    }

    func write(_ relativePath: String, _ contents: String) {
        let full = path + "/" + relativePath
        var directory = full
        while let slash = directory.lastIndex(of: "/"), directory[..<slash] != path, !directory[..<slash].isEmpty {
            directory = String(directory[..<slash])
            mkdir(directory, 0o755)
        }
        let descriptor = open(full, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let bytes = Array(contents.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        close(descriptor)
    }

    deinit {
        _ = system("rm -rf '\(path)'")
    }
}

@Suite("Static files")
struct StaticFilesTests {
    let directory: TemporaryDirectory
    let files: StaticFiles

    init() {
        directory = TemporaryDirectory()
        directory.write("index.html", "<h1>dashboard</h1>")
        directory.write("app.js", "console.log(1)")
        directory.write("css/site.css", "body{}")
        directory.write("docs/index.html", "docs")
        directory.write("a b.txt", "spaced")
        directory.write(".secret", "hidden")
        files = StaticFiles(root: directory.path)
    }

    func get(_ target: String, method: String = "GET", headers: HTTPHeaders = ["Host": "h"]) -> HTTPResponse? {
        files.response(for: HTTPRequestHead(method: method, target: target, headers: headers))
    }

    @Test("/ serves index.html with content type, ETag, Cache-Control and Last-Modified")
    func index() throws {
        let response = try #require(get("/"))
        #expect(response.status == 200)
        #expect(response.body == bytes("<h1>dashboard</h1>"))
        #expect(response.headers["Content-Type"] == "text/html; charset=utf-8")
        #expect(response.headers["Cache-Control"] == "no-cache")
        #expect(response.headers["Last-Modified"]?.hasSuffix(" GMT") == true)
        let etag = try #require(response.headers["ETag"])
        #expect(etag.hasPrefix("\"12-"))  // size 18 in hex
        #expect(etag.hasSuffix("\""))
        #expect(get("/index.html")?.body == response.body)
        #expect(get("/docs/")?.body == bytes("docs"))
        #expect(get("/?v=2")?.body == response.body)
    }

    @Test(
        "content types by extension",
        arguments: [
            ("x.html", "text/html; charset=utf-8"), ("x.css", "text/css; charset=utf-8"),
            ("x.js", "text/javascript; charset=utf-8"), ("x.mjs", "text/javascript; charset=utf-8"),
            ("x.json", "application/json"), ("x.svg", "image/svg+xml"), ("x.png", "image/png"),
            ("x.ico", "image/x-icon"), ("x.txt", "text/plain; charset=utf-8"), ("x.map", "application/json"),
            ("x.woff2", "font/woff2"), ("X.PNG", "image/png"), ("noextension", "application/octet-stream"),
            ("dir.d/file", "application/octet-stream"), ("x.unknown", "application/octet-stream"),
        ])
    func contentTypes(path: String, type: String) {
        #expect(StaticFiles.contentType(forPath: path) == type)
    }

    @Test("RFC 9110 §13.1.2 If-None-Match: weak comparison, lists and * give 304 with the ETag")
    func conditional() throws {
        let etag = try #require(get("/app.js")?.headers["ETag"])
        for condition in [etag, "W/\(etag)", "\"other\", \(etag)", "*", "\"a,b\" ,\t\(etag)"] {
            let response = try #require(get("/app.js", headers: ["Host": "h", "If-None-Match": condition]))
            #expect(response.status == 304, "\(condition)")
            #expect(response.body.isEmpty)
            #expect(response.headers["ETag"] == etag)
            #expect(response.headers["Cache-Control"] == "no-cache")
        }
        for condition in ["\"other\"", "W/\"x\"", "", "garbage", String(etag.dropLast())] {
            #expect(get("/app.js", headers: ["Host": "h", "If-None-Match": condition])?.status == 200, "\(condition)")
        }
    }

    @Test("the ETag changes when the file changes")
    func etagChanges() throws {
        let before = try #require(get("/app.js")?.headers["ETag"])
        directory.write("app.js", "console.log(22)")
        let after = try #require(get("/app.js")?.headers["ETag"])
        #expect(before != after)
    }

    @Test("percent-encoded names are decoded")
    func decoding() {
        #expect(get("/a%20b.txt")?.body == bytes("spaced"))
        #expect(get("/css%2Fsite.css")?.body == bytes("body{}"))
    }

    @Test(
        "path traversal, dotfiles, NUL and backslashes are refused",
        arguments: [
            "/../etc/passwd", "/..", "/css/../index.html", "/%2e%2e/etc/passwd", "/%2E%2E%2Fetc%2Fpasswd", "/css/%2e%2e/index.html",
            "/.secret", "/%2esecret", "/index.html%00.png", "/css\\site.css", "/css%5csite.css", "/./index.html",
            "//etc/passwd", "/css//site.css", "/%zz", "/%FF",
        ])
    func traversal(target: String) {
        #expect(get(target) == nil)
    }

    @Test("missing files, directories and other methods give nil")
    func missing() {
        #expect(get("/nope.js") == nil)
        #expect(get("/css") == nil)
        #expect(get("/app.js", method: "POST") == nil)
        #expect(get("/app.js", method: "DELETE") == nil)
    }

    @Test("HEAD gets the GET response; the writer drops the body")
    func head() throws {
        let response = try #require(get("/app.js", method: "HEAD"))
        #expect(response.status == 200)
        let wire = HTTPResponseWriter.serialize(response, date: "d", keepAlive: true, headOnly: true)
        let text = String(decoding: wire, as: UTF8.self)
        #expect(text.contains("Content-Length: \(response.body.count)\r\n"))
        #expect(text.hasSuffix("\r\n\r\n"))
    }

    @Test("a root given with a trailing slash works the same")
    func rootSlash() {
        let slashed = StaticFiles(root: directory.path + "/")
        #expect(slashed.response(for: HTTPRequestHead(method: "GET", target: "/app.js"))?.status == 200)
    }
}
