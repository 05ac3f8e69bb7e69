import Testing

@testable import HTTP1

@Suite("Request head helpers and headers")
struct RequestHeadTests {
    @Test(
        "decodedPath decodes escapes and rejects malformed ones",
        arguments: [
            ("/a%20b", "/a b"), ("/plus+sign", "/plus+sign"), ("/%E2%82%AC", "/€"), ("/plain", "/plain"),
        ])
    func decodedPath(raw: String, decoded: String) {
        #expect(HTTPRequestHead(method: "GET", target: raw).decodedPath == decoded)
    }

    @Test("decodedPath is nil for bad escapes and invalid UTF-8", arguments: ["/%", "/%2", "/%zz", "/%G1", "/%FF", "/a%C3"])
    func badPaths(raw: String) {
        #expect(HTTPRequestHead(method: "GET", target: raw).decodedPath == nil)
    }

    @Test("queryItems form-decodes names and values")
    func queryItems() {
        let head = HTTPRequestHead(method: "GET", target: "/ws?topics=alerts%2Crankings&since=12&epoch=e+1&flag&&=v&bad=%zz&x=1=2")
        let items = head.queryItems()
        #expect(items.map(\.name) == ["topics", "since", "epoch", "flag", "", "bad", "x"])
        #expect(items.map(\.value) == ["alerts,rankings", "12", "e 1", "", "v", "%zz", "1=2"])
        #expect(head.queryItem("since") == "12")
        #expect(head.queryItem("missing") == nil)
        #expect(HTTPRequestHead(method: "GET", target: "/").queryItems().isEmpty)
    }

    @Test("containsToken splits comma lists, trims OWS, ignores case and empty elements")
    func containsToken() {
        let headers = HTTPHeaders([("Connection", " keep-alive ,, Upgrade\t"), ("connection", "x")])
        #expect(headers.containsToken("upgrade", in: "connection"))
        #expect(headers.containsToken("KEEP-ALIVE", in: "Connection"))
        #expect(headers.containsToken("x", in: "Connection"))
        #expect(!headers.containsToken("close", in: "Connection"))
        #expect(!headers.containsToken("keep", in: "Connection"))
        #expect(!headers.containsToken("upgrade", in: "Upgrade"))
    }

    @Test("headers add, replace and remove keep order")
    func mutation() {
        var headers: HTTPHeaders = ["A": "1"]
        headers.add("B", "2")
        headers.add("a", "3")
        #expect(headers.values("A") == ["1", "3"])
        headers.replaceOrAdd("A", "9")
        #expect(headers.pairs.map(\.name) == ["A", "B"])
        #expect(headers["a"] == "9")
        headers.remove("b")
        #expect(headers.count == 1)
        #expect(Array(headers).map(\.value) == ["9"])
    }

    @Test("the public initializer derives path, query and connection facts")
    func publicInitializer() {
        let head = HTTPRequestHead(
            method: "GET", target: "/ws?x=1",
            headers: ["Host": "h", "Upgrade": "websocket", "Connection": "Upgrade"]
        )
        #expect(head.path == "/ws")
        #expect(head.query == "x=1")
        #expect(head.keepAlive)
        #expect(head.isUpgradeRequest)
    }
}
