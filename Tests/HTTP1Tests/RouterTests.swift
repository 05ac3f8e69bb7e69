import Testing

@testable import HTTP1

@Suite("Router")
struct RouterTests {
    func makeRouter() -> Router<String> {
        var router = Router<String>()
        router.add("POST", "/api/transactions", "ingest")
        router.add("GET", "/api/rankings", "rankings")
        router.add("GET", "/api/investors/{id}", "investor")
        router.add("GET", "/api/investors/top", "top")
        router.add("DELETE", "/api/investors/{id}", "delete-investor")
        router.add("GET", "/api/syndicates/{id}/members/{member}", "member")
        router.add("GET", "/files/{path...}", "files")
        router.add("HEAD", "/special", "special-head")
        router.add("GET", "/special", "special-get")
        return router
    }

    func expectFound(
        _ router: Router<String>, _ method: String, _ path: String, _ handler: String, _ parameters: [String: String] = [:],
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard case .found(let found, let bound) = router.match(method: method, path: path) else {
            Issue.record("\(method) \(path) did not match", sourceLocation: sourceLocation)
            return
        }
        #expect(found == handler, sourceLocation: sourceLocation)
        #expect(bound == parameters, sourceLocation: sourceLocation)
    }

    @Test("literal routes and path parameters")
    func parameters() {
        let router = makeRouter()
        expectFound(router, "POST", "/api/transactions", "ingest")
        expectFound(router, "GET", "/api/investors/i42", "investor", ["id": "i42"])
        expectFound(router, "GET", "/api/syndicates/s1/members/m%20two", "member", ["id": "s1", "member": "m two"])
        expectFound(router, "DELETE", "/api/investors/x", "delete-investor", ["id": "x"])
    }

    @Test("a literal segment beats a parameter regardless of registration order")
    func specificity() {
        expectFound(makeRouter(), "GET", "/api/investors/top", "top")
    }

    @Test("a rest parameter captures the remaining segments")
    func restParameter() {
        let router = makeRouter()
        expectFound(router, "GET", "/files/a/b/c.txt", "files", ["path": "a/b/c.txt"])
        expectFound(router, "GET", "/files/", "files", ["path": ""])
    }

    @Test("405 lists the allowed methods, with HEAD implied by GET")
    func methodNotAllowed() {
        let router = makeRouter()
        guard case .methodNotAllowed(let allowed) = router.match(method: "GET", path: "/api/transactions") else {
            Issue.record("expected 405")
            return
        }
        #expect(allowed == ["POST"])
        guard case .methodNotAllowed(let investorAllowed) = router.match(method: "PUT", path: "/api/investors/7") else {
            Issue.record("expected 405")
            return
        }
        #expect(investorAllowed == ["DELETE", "GET", "HEAD"])
    }

    @Test(
        "404 for unknown paths, trailing slashes, extra or missing segments and empty parameters",
        arguments: [
            "/nope", "/api/rankings/", "/api/investors", "/api/investors/", "/api/investors/a/b", "/api", "", "/api/syndicates//members/x",
        ])
    func notFound(path: String) {
        guard case .notFound = makeRouter().match(method: "GET", path: path) else {
            Issue.record("\(path) should be 404")
            return
        }
    }

    @Test("RFC 9110 §9.3.2 HEAD uses the GET route unless a HEAD route exists")
    func head() {
        let router = makeRouter()
        expectFound(router, "HEAD", "/api/rankings", "rankings")
        expectFound(router, "HEAD", "/api/investors/9", "investor", ["id": "9"])
        expectFound(router, "HEAD", "/special", "special-head")
        expectFound(router, "GET", "/special", "special-get")
    }

    @Test("a parameter with a malformed escape does not match; re-adding replaces the handler")
    func badEscapeAndReplace() {
        var router = makeRouter()
        guard case .notFound = router.match(method: "GET", path: "/api/investors/%zz") else {
            Issue.record("bad escape should not match")
            return
        }
        router.add("GET", "/api/rankings", "rankings-v2")
        expectFound(router, "GET", "/api/rankings", "rankings-v2")
        #expect(router.routes.count == 9)
    }

    @Test("methods are case-sensitive")
    func methodCase() {
        guard case .methodNotAllowed = makeRouter().match(method: "get", path: "/api/rankings") else {
            Issue.record("lowercase get is another method")
            return
        }
    }
}
