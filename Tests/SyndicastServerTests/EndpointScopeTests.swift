import Foundation
import HTTP1
import Testing

@testable import SyndicastServer

@Suite("endpoints: API key scopes decide writes from the head (401 no key, 403 wrong scope)")
struct EndpointScopeTests {
    /// An in-process API whose `--api-key-file` holds `text` (and `flagKeys` as `--api-key`).
    static func api(file text: String, count: Int = 3, flagKeys: [String] = []) throws -> (InProcessAPI, path: String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("syndicast-keys-\(UUID().uuidString)").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let api = InProcessAPI {
            $0.apiKeyFile = path
            $0.apiKeys = flagKeys
        }
        #expect(api.context.routing.policy.keys.reload() == .loaded(path: path, count: count))
        return (api, path)
    }

    static let keyFile = "ingest-key ingest\npublish-key publish\nadmin-key admin\n"

    func ingest(_ api: InProcessAPI, key: String?, id: String) async -> InProcessAPI.Answer {
        let authorization = key.map { [("Authorization", "Bearer \($0)")] } ?? []
        return await api.send("POST", "/api/transactions", headers: jsonBody + authorization, body: "[" + transactionJSON(id) + "]")
    }

    func publish(_ api: InProcessAPI, key: String?) async -> InProcessAPI.Answer {
        let authorization = key.map { [("Authorization", "Bearer \($0)")] } ?? []
        return await api.send("POST", "/api/publish", headers: jsonBody + authorization, body: #"{"topic":"orders","data":1}"#)
    }

    @Test("ingest key: 201 on ingest, 403 insufficient_scope on publish")
    func ingestKey() async throws {
        let (api, path) = try Self.api(file: Self.keyFile)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(await ingest(api, key: "ingest-key", id: "a").status == 201)
        let refused = await publish(api, key: "ingest-key")
        #expect(refused.status == 403)
        #expect(refused.header("WWW-Authenticate") == #"Bearer error="insufficient_scope", scope="publish""#)
        #expect(refused.text.hasPrefix(#"{"error":{"code":"insufficient_scope","#))
        #expect(!refused.text.contains("ingest-key"))
        #expect(refused.text.contains("it needs the publish or admin scope"))
        // Decided from the head: the parser is told to refuse the body before reading it.
        let head = HTTPRequestHead(
            method: "POST", target: "/api/publish",
            headers: HTTPHeaders([("Host", "127.0.0.1"), ("Content-Type", "application/json"), ("Authorization", "Bearer ingest-key")]))
        guard case .refuse = api.endpoints.decide(head).admission else {
            Issue.record("a key without the scope must be refused from the head")
            return
        }
    }

    @Test("publish key: 202 on publish, 403 on ingest (nothing journaled)")
    func publishKey() async throws {
        let (api, path) = try Self.api(file: Self.keyFile)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let published = await publish(api, key: "publish-key")
        #expect((200..<300).contains(published.status), "\(published.status) \(published.text)")
        let before = api.journal.count
        let refused = await ingest(api, key: "publish-key", id: "b")
        #expect(refused.status == 403 && refused.header("WWW-Authenticate") == #"Bearer error="insufficient_scope", scope="ingest""#)
        #expect(api.journal.count == before, "a refused ingest stores nothing")
    }

    @Test("admin key and flag key: both writes pass")
    func adminKey() async throws {
        let (api, path) = try Self.api(file: Self.keyFile, flagKeys: ["flag-key"])
        defer { try? FileManager.default.removeItem(atPath: path) }
        for key in ["admin-key", "flag-key"] {
            #expect(await ingest(api, key: key, id: "admin-\(key)").status == 201, "\(key)")
            #expect((200..<300).contains(await publish(api, key: key).status), "\(key)")
        }
    }

    @Test("no key or an unknown key: 401 on both writes, reads stay open")
    func noKey() async throws {
        let (api, path) = try Self.api(file: Self.keyFile)
        defer { try? FileManager.default.removeItem(atPath: path) }
        for key in [nil, "wrong-key", "ingest-ke"] as [String?] {
            let refusedIngest = await ingest(api, key: key, id: "d")
            #expect(refusedIngest.status == 401 && refusedIngest.header("WWW-Authenticate") == "Bearer")
            #expect(await publish(api, key: key).status == 401)
        }
        #expect(await api.send("GET", "/api/stats").status == 200)
    }

    @Test("a file holding no key locks writes rather than opening them")
    func emptyFileLocks() async throws {
        let (api, path) = try Self.api(file: "# no keys yet\n", count: 0)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(await ingest(api, key: nil, id: "e").status == 401)
    }

    @Test("reload: new keys served, removed keys refused; a bad file keeps the old keys")
    func reload() async throws {
        let (api, path) = try Self.api(file: "old-key ingest\n", count: 1)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "new-key ingest\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(api.context.routing.policy.keys.reload() == .loaded(path: path, count: 1))
        #expect(await ingest(api, key: "old-key", id: "f").status == 401)
        #expect(await ingest(api, key: "new-key", id: "g").status == 201)
        try "new-key ingest\nbroken-secret-key\n".write(toFile: path, atomically: true, encoding: .utf8)
        let outcome = api.context.routing.policy.keys.reload()
        guard case .failed(let error, let kept) = outcome else {
            Issue.record("expected a failed reload, got \(String(describing: outcome))")
            return
        }
        #expect(error.line == 2 && kept == 1 && !error.description.contains("broken-secret-key"))
        #expect(await ingest(api, key: "new-key", id: "h").status == 201)
    }
}
