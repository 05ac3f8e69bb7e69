import Glibc
import HTTP1
import Testing

@testable import SyndicastServer

/// A temporary directory tree removed when the test ends.
final class StaticDirectory {
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
        if let slash = relativePath.lastIndex(of: "/") {
            mkdir(path + "/" + relativePath[..<slash], 0o755)
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

/// The dashboard's files are read once into memory (at start, and on SIGHUP through
/// `reloadStaticFiles`); requests are answered from that copy.
@Suite("Static files: loaded at start, served from memory, reloaded on demand")
struct StaticFilesLoaderTests {
    func get(_ files: StaticFiles, _ target: String, _ headers: HTTPHeaders = ["Host": "h"]) -> HTTPResponse? {
        files.response(for: HTTPRequestHead(method: "GET", target: target, headers: headers))
    }

    @Test func loadsEveryServableFileWithItsValidators() throws {
        let directory = StaticDirectory()
        directory.write("index.html", "<h1>dashboard</h1>")
        directory.write("css/site.css", "body{}")
        directory.write(".hidden", "secret")
        let files = StaticFiles(root: directory.path + "/")
        #expect(StaticFilesLoader.reload(files) == 2, "dotfiles are not loaded")
        let index = try #require(get(files, "/"))
        #expect(index.body == Array("<h1>dashboard</h1>".utf8))
        #expect(index.headers["Content-Type"] == "text/html; charset=utf-8")
        #expect(index.headers["Last-Modified"]?.hasSuffix(" GMT") == true)
        let etag = try #require(index.headers["ETag"])
        #expect(etag.hasPrefix("\"12-"), "size 18 in hex, then the modification time")
        #expect(get(files, "/", ["Host": "h", "If-None-Match": etag])?.status == 304)
        #expect(get(files, "/css/site.css")?.body == Array("body{}".utf8))
    }

    @Test func servesFromMemoryUntilReloaded() throws {
        let directory = StaticDirectory()
        directory.write("app.js", "console.log(1)")
        let files = StaticFiles(root: directory.path)
        StaticFilesLoader.reload(files)
        let before = try #require(get(files, "/app.js"))
        // Changed and added on disk: nothing changes for clients until the reload.
        directory.write("app.js", "console.log(22)")
        directory.write("new.js", "new")
        #expect(get(files, "/app.js")?.body == before.body)
        #expect(get(files, "/new.js") == nil)
        unlink(directory.path + "/app.js")
        #expect(get(files, "/app.js")?.body == before.body, "served from the cache, not the disk")
        directory.write("app.js", "console.log(333)")
        #expect(StaticFilesLoader.reload(files) == 2)
        let after = try #require(get(files, "/app.js"))
        #expect(after.body == Array("console.log(333)".utf8))
        #expect(after.headers["ETag"] != before.headers["ETag"])
        #expect(get(files, "/new.js")?.body == Array("new".utf8))
    }

    @Test func filesOverTheSizeLimitAndAMissingRootAreSkipped() {
        let directory = StaticDirectory()
        directory.write("small.txt", "12345")
        directory.write("large.txt", String(repeating: "x", count: 100))
        let files = StaticFiles(root: directory.path, maxFileSize: 10)
        #expect(StaticFilesLoader.reload(files) == 1)
        #expect(get(files, "/large.txt") == nil)
        #expect(StaticFilesLoader.reload(StaticFiles(root: directory.path + "/missing")) == 0)
    }

    /// The server loads the files in `init` and `reloadStaticFiles` picks up a change; stopping
    /// it afterwards returns (every thread it started is joined).
    @Test func theServerLoadsAtStartAndReloads() throws {
        let directory = StaticDirectory()
        directory.write("index.html", "one")
        var configuration = ServerConfiguration()
        configuration.port = 0
        configuration.threads = 1
        configuration.dataDirectory = nil
        configuration.staticDirectory = directory.path
        configuration.shutdownGraceSeconds = 0
        let server = try SyndicastServer(configuration: configuration)
        #expect(get(server.context.routing.staticFiles, "/")?.body == Array("one".utf8))
        try server.start()
        directory.write("index.html", "two!")
        #expect(server.reloadStaticFiles() == 1)
        #expect(get(server.context.routing.staticFiles, "/")?.body == Array("two!".utf8))
        server.stopGracefully()
    }
}
