import Testing

@testable import HTTP1

/// An asset for `path` with `contents`, modified at 2025-11-27T10:00:00.5Z.
func asset(_ path: String, _ contents: String, modified seconds: Int = 1_764_237_600) -> StaticFiles.Asset {
    StaticFiles.Asset(path: path, bytes: Array(contents.utf8), modificationSeconds: seconds, modificationNanoseconds: 500_000_000)
}

/// Serving from the in-memory cache the server fills (`StaticFilesLoader`, tested with real files
/// in SyndicastServerTests): this type itself never touches the file system.
@Suite("Static files")
struct StaticFilesTests {
    let files: StaticFiles

    init() {
        files = StaticFiles(root: "/nonexistent")
        var assets: [String: StaticFiles.Asset] = [:]
        for (path, contents) in [
            ("index.html", "<h1>dashboard</h1>"), ("app.js", "console.log(1)"), ("css/site.css", "body{}"),
            ("docs/index.html", "docs"), ("a b.txt", "spaced"),
            // Never loaded by the server; present here to show the path rules refuse it anyway.
            (".secret", "hidden"),
        ] {
            assets[path] = asset(path, contents)
        }
        files.replaceAll(with: assets)
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
        #expect(response.headers["Last-Modified"] == "Thu, 27 Nov 2025 10:00:00 GMT")
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

    @Test("a replaced set is served whole: new content, new ETag, removed files gone")
    func replacement() throws {
        let before = try #require(get("/app.js")?.headers["ETag"])
        files.replaceAll(with: ["app.js": asset("app.js", "console.log(1)", modified: 1_764_237_601)])
        let response = try #require(get("/app.js"))
        #expect(response.headers["ETag"] != before, "same bytes, later modification time")
        #expect(get("/app.js", headers: ["Host": "h", "If-None-Match": before])?.status == 200)
        #expect(get("/") == nil)
        #expect(files.count == 1)
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

    @Test("a root given with a trailing slash is kept without it")
    func rootSlash() {
        #expect(StaticFiles(root: "/srv/web/").root == "/srv/web")
        #expect(StaticFiles(root: "/").root == "/")
    }
}
