import Foundation
import HTTP1
import Testing

@testable import SyndicastServer

@Suite("API key file: KEY scope[,scope…] a line, errors by file and line, never the key")
struct APIKeyFileTests {
    static let path = "/etc/syndicast/keys"

    func parse(_ text: String) throws(APIKeyFileError) -> [APIKey] {
        try APIKeyFile.parse(text, path: Self.path)
    }

    /// The error `text` gets; fails the test if it parses.
    func failure(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> APIKeyFileError? {
        do {
            let keys = try parse(text)
            Issue.record("parsed \(keys.count) keys", sourceLocation: sourceLocation)
            return nil
        } catch {
            return error
        }
    }

    @Test("a good file: keys, scopes, comments, blank lines, CRLF, trailing comment")
    func goodFile() throws {
        let text = """
            # ingest service
            ingest-key-1 ingest

            \tpublish-key\tpublish   # the notifier
            ops-key publish,ingest\r
              # indented comment
            root-key admin
            """
        let keys = try parse(text)
        #expect(keys.map { String(decoding: $0.bytes, as: UTF8.self) } == ["ingest-key-1", "publish-key", "ops-key", "root-key"])
        #expect(keys.map(\.scopes) == [.ingest, .publish, [.ingest, .publish], .admin])
        #expect(try parse("").isEmpty)
        #expect(try parse("# only comments\n\n   \n").isEmpty)
    }

    @Test("admin implies ingest and publish; ingest and publish imply nothing else")
    func scopeImplication() {
        #expect(APIKeyScopes.admin.permits(.ingest) && APIKeyScopes.admin.permits(.publish) && APIKeyScopes.admin.permits(.admin))
        #expect(APIKeyScopes.ingest.permits(.ingest) && !APIKeyScopes.ingest.permits(.publish))
        #expect(!APIKeyScopes.ingest.permits(.admin))
        #expect(APIKeyScopes.publish.permits(.publish) && !APIKeyScopes.publish.permits(.ingest))
        #expect(APIKeyScopes([.ingest, .publish]).permits(.publish) && !APIKeyScopes([.ingest, .publish]).permits(.admin))
    }

    @Test("errors name the file and the line")
    func lineNumbers() {
        let error = failure("# header\ngood-key ingest\n\nbad-key-here ingest,root\n")
        #expect(error?.path == Self.path)
        #expect(error?.line == 4)
        #expect(error?.description == "\(Self.path):4: scope 2 of 2 is not ingest, publish or admin")
    }

    @Test("refused lines: unknown or empty scope, no scope, extra field, duplicate, non-ASCII key")
    func refusedLines() {
        #expect(failure("k1 Ingest")?.reason == "scope 1 of 1 is not ingest, publish or admin")
        #expect(failure("k1 ingest,")?.reason == "scope 2 of 2 is not ingest, publish or admin")
        #expect(failure("k1 ingest,,publish")?.reason == "scope 2 of 3 is not ingest, publish or admin")
        #expect(failure("lonely-key")?.reason.hasPrefix("expected KEY SCOPE[,SCOPE…], found one field") == true)
        #expect(failure("   \tingest")?.line == 1, "a blank key leaves the scope alone on the line")
        #expect(failure("k1 ingest publish")?.reason == "expected KEY SCOPE[,SCOPE…], found 3 fields")
        #expect(failure("clé ingest")?.reason.hasPrefix("the key is not printable ASCII") == true)
        let duplicate = failure("same-key ingest\nother publish\nsame-key admin")
        #expect(duplicate?.line == 3 && duplicate?.reason == "the key repeats the key on line 1")
    }

    @Test("no error text holds the key or the fields around it")
    func keyNeverInErrors() {
        let secret = "s3cr3t-VALUE-9f8e7d"
        let lines = [
            "\(secret) ingest,bogus", "\(secret)", "ingest \(secret)", "\(secret) ingest extra", "\(secret) ingest\n\(secret) admin",
            "\(secret)é ingest", "k publish \(secret)",
        ]
        for line in lines {
            guard let error = failure(line) else { continue }
            #expect(!error.description.contains(secret) && !error.reason.contains("s3cr3t"), "\(error.line ?? 0)")
        }
    }

    @Test("load: a missing file is named without a line; a file on disk parses")
    func load() throws {
        let missing = "/nonexistent-syndicast/keys"
        #expect(throws: APIKeyFileError(path: missing, line: nil, reason: "No such file or directory")) {
            try APIKeyFile.load(missing)
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "disk-key publish\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try APIKeyFile.load(path).map(\.scopes) == [.publish])
    }

    @Test("the key set: flag keys have every scope; a configured file requires keys even while empty")
    func store() {
        let flags = APIKeyStore(flagKeys: ["flag-key"], filePath: nil)
        #expect(flags.requiresKey && flags.scopes(of: Array("flag-key".utf8)[...]) == .all)
        #expect(flags.scopes(of: Array("flag-ke".utf8)[...]) == nil)
        let file = APIKeyStore(flagKeys: [], filePath: "/unused")
        #expect(file.requiresKey && file.count == 0)
        file.install([APIKey("a", scopes: .ingest), APIKey("b", scopes: .publish)])
        #expect(file.scopes(of: Array("b".utf8)[...]) == .publish && file.scopes(of: Array("c".utf8)[...]) == nil)
        #expect(!APIKeyStore(flagKeys: [], filePath: nil).requiresKey)
        #expect(!"\(APIKey("hidden-key", scopes: .admin))".contains("hidden-key"))
    }

    @Test("the start-up warning: beyond loopback without keys, naming writes and streams")
    func exposureWarning() throws {
        var configuration = ServerConfiguration()
        #expect(configuration.exposureWarning(port: 8080) == nil, "loopback")
        configuration.host = "0.0.0.0"
        let warning = try #require(configuration.exposureWarning(port: 8080))
        #expect(warning.contains("anyone who can reach the port may ingest and publish"))
        #expect(warning.contains("streams (/ws, /events) are unauthenticated unless stream tokens are configured"))
        configuration.apiKeyFile = "/etc/syndicast/keys"
        #expect(configuration.exposureWarning(port: 8080) == nil, "a key file")
        configuration.apiKeyFile = nil
        configuration.apiKeys = ["k"]
        #expect(configuration.exposureWarning(port: 8080) == nil, "a flag key")
        configuration.apiKeys = []
        configuration.host = "::1"
        #expect(configuration.exposureWarning(port: 8080) == nil, "IPv6 loopback")
    }
}
