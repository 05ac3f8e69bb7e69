import HTTP1
import Testing

@testable import SyndicastServer

@Suite("Request policy: Host, Origin and API keys")
struct RequestPolicyTests {
    func head(_ headers: [(String, String)], method: String = "GET") -> HTTPRequestHead {
        HTTPRequestHead(method: method, target: "/api/stats", headers: HTTPHeaders(headers))
    }

    @Test("a loopback server answers loopback names on any port and refuses other names")
    func loopbackHosts() {
        let policy = RequestPolicy(host: "127.0.0.1", allowedHosts: [], allowedOrigins: [], apiKeys: [])
        for host in ["127.0.0.1", "127.0.0.1:8080", "localhost:8080", "LocalHost", "[::1]:8080"] {
            #expect(policy.acceptsHost(head([("Host", host)])), "\(host)")
        }
        for host in ["evil.example", "evil.example:8080", "10.0.0.1:8080", "127.0.0.1.evil.example"] {
            #expect(!policy.acceptsHost(head([("Host", host)])), "\(host)")
        }
        // HTTP/1.0 without Host (the parser already refuses an HTTP/1.1 request without one).
        #expect(policy.acceptsHost(head([])))
    }

    @Test("a wildcard-bound server answers any address literal plus the configured names")
    func wildcardHosts() {
        let policy = RequestPolicy(
            host: "0.0.0.0", allowedHosts: ["syndicast.internal"], allowedOrigins: ["https://ops.example.com"], apiKeys: [])
        for host in ["192.0.2.10:8080", "[2001:db8::1]:8080", "syndicast.internal", "ops.example.com"] {
            #expect(policy.acceptsHost(head([("Host", host)])), "\(host)")
        }
        #expect(!policy.acceptsHost(head([("Host", "evil.example")])))
        #expect(!policy.acceptsHost(head([("Host", "999.1.1.1x")])))
    }

    @Test("Origin must be the request's own authority or configured; no Origin passes")
    func origins() {
        let policy = RequestPolicy(host: "127.0.0.1", allowedHosts: [], allowedOrigins: ["https://ops.example.com"], apiKeys: [])
        #expect(policy.acceptsOrigin(head([("Host", "127.0.0.1:8080")])))
        #expect(policy.acceptsOrigin(head([("Host", "127.0.0.1:8080"), ("Origin", "http://127.0.0.1:8080")])))
        #expect(policy.acceptsOrigin(head([("Host", "127.0.0.1:8080"), ("Origin", "HTTPS://OPS.EXAMPLE.COM")])))
        #expect(!policy.acceptsOrigin(head([("Host", "127.0.0.1:8080"), ("Origin", "http://evil.example")])))
        #expect(!policy.acceptsOrigin(head([("Host", "127.0.0.1:8080"), ("Origin", "null")])))
        #expect(!policy.acceptsOrigin(head([("Host", "127.0.0.1:8080"), ("Origin", "http://127.0.0.1:9999")])))
    }

    @Test("keys: Bearer scheme case-insensitive, exact key bytes, every key tried")
    func keys() {
        let policy = RequestPolicy(host: "127.0.0.1", allowedHosts: [], allowedOrigins: [], apiKeys: ["first-key", "second"])
        #expect(policy.isAuthorized(head([("Authorization", "Bearer first-key")])))
        #expect(policy.isAuthorized(head([("Authorization", "bearer   second ")])))
        #expect(!policy.isAuthorized(head([("Authorization", "Bearer first-ke")])))
        #expect(!policy.isAuthorized(head([("Authorization", "Bearer first-keyy")])))
        #expect(!policy.isAuthorized(head([("Authorization", "Basic first-key")])))
        #expect(!policy.isAuthorized(head([("Authorization", "Bearer ")])))
        #expect(!policy.isAuthorized(head([])))
        let open = RequestPolicy(host: "127.0.0.1", allowedHosts: [], allowedOrigins: [], apiKeys: [])
        #expect(open.isAuthorized(head([])))
    }

    @Test("constant-time comparison agrees with ==")
    func constantTime() {
        let key = Array("abcdef".utf8)
        for candidate in ["abcdef", "abcdeg", "abcde", "abcdefg", "", "Abcdef"] {
            #expect(RequestPolicy.constantTimeEquals(key, Array(candidate.utf8)[...]) == (candidate == "abcdef"), "\(candidate)")
        }
    }

    @Test("empty, blank and non-token keys are refused")
    func keyValidation() {
        #expect(RequestPolicy.validateKeys(["good-key_1"]) == nil)
        for bad in ["", "  ", "\t", "has space", "naïve"] {
            #expect(RequestPolicy.validateKeys(["ok", bad]) != nil, "\(bad)")
        }
    }
}

@Suite("Pending replies keep request order")
struct PendingRepliesTests {
    @Test("answers filled out of order come out in request order")
    func order() {
        var replies = PendingReplies()
        let first = replies.reserve(bodyBytes: 10)
        let second = replies.reserve(bodyBytes: 20)
        replies.appendReady([3], persist: true)
        #expect(replies.waitingCount == 2)
        #expect(replies.fill(second, [2], persist: true) == 20)
        #expect(replies.popReady() == nil)
        #expect(replies.fill(first, [1], persist: false) == 10)
        #expect(replies.popReady()?.bytes == [1])
        #expect(replies.popReady()?.bytes == [2])
        #expect(replies.popReady()?.bytes == [3])
        #expect(replies.isEmpty)
        #expect(replies.waitingCount == 0)
    }

    @Test("a slot filled twice, or after removeAll, changes nothing")
    func staleSlots() {
        var replies = PendingReplies()
        let slot = replies.reserve(bodyBytes: 5)
        #expect(replies.fill(slot, [1], persist: true) == 5)
        #expect(replies.fill(slot, [9], persist: true) == 0)
        let later = replies.reserve(bodyBytes: 7)
        replies.removeAll()
        #expect(replies.fill(later, [2], persist: true) == 0)
        #expect(replies.popReady() == nil)
    }

    @Test("a connection that always has an answer outstanding stays compact")
    func compaction() {
        var replies = PendingReplies()
        var waiting = replies.reserve(bodyBytes: 0)
        for index in 0..<10_000 {
            let next = replies.reserve(bodyBytes: 0)
            _ = replies.fill(waiting, [UInt8(truncatingIfNeeded: index)], persist: true)
            #expect(replies.popReady()?.bytes == [UInt8(truncatingIfNeeded: index)])
            waiting = next
        }
        #expect(replies.storedCount < 100)
    }
}
