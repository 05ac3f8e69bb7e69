import Broker
import Foundation
import HTTP1
import Testing

@testable import SyndicastServer

/// `--stream-token-secret` at the `/ws` and `/events` handshakes, in process: 401 without a valid
/// token, 403 for a topic outside its `topics` claim, and the grant handed to the session.
@Suite("Endpoints: stream tokens at the handshake")
struct StreamTokenEndpointTests {
    static let secret = "endpoint-test-secret-0123456789"
    static let upgradeHeaders: [(String, String)] = [
        ("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Version", "13"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ]

    static func api() -> InProcessAPI {
        InProcessAPI { $0.streamTokenSecret = Array(secret.utf8) }
    }

    /// An HS256 token for `claims` (JSON), signed with `secret`.
    static func token(_ claims: String, secret: String = secret) -> String {
        let header = StreamTokenVerifier.Base64URL.encode(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
        let input = header + "." + StreamTokenVerifier.Base64URL.encode(Array(claims.utf8))
        let signature = StreamTokenVerifier.HMACSHA256.authenticationCode(key: Array(secret.utf8), message: Array(input.utf8)) ?? []
        return input + "." + StreamTokenVerifier.Base64URL.encode(signature)
    }

    static var inAnHour: Int { Int(Date().timeIntervalSince1970) + 3_600 }

    @Test("401 on /ws and /events without a token, with a wrong one and with an expired one")
    func refused() async {
        let api = Self.api()
        let forged = Self.token(#"{"sub":"a","exp":\#(Self.inAnHour)}"#, secret: "another-secret-0123456789")
        let expired = Self.token(#"{"sub":"a","exp":\#(Int(Date().timeIntervalSince1970) - 10)}"#)
        for path in ["/ws", "/events"] {
            let headers = path == "/ws" ? Self.upgradeHeaders : []
            let missing = await api.send("GET", path, headers: headers)
            #expect(missing.status == 401 && missing.header("WWW-Authenticate") == "Bearer", "\(path)")
            #expect(missing.text.hasPrefix(#"{"error":{"code":"token_required","#))
            for (token, message) in [(forged, "signature does not verify"), (expired, "has expired"), ("not-a-token", "malformed")] {
                for answer in [
                    await api.send("GET", path + "?token=" + token, headers: headers),
                    await api.send("GET", path, headers: headers + [("Authorization", "Bearer " + token)]),
                ] {
                    #expect(answer.status == 401, "\(path) \(message)")
                    #expect(answer.header("WWW-Authenticate") == #"Bearer error="invalid_token""#)
                    #expect(answer.text.hasPrefix(#"{"error":{"code":"invalid_token","#) && answer.text.contains(message))
                }
            }
        }
        // Another scheme, and the token twice (RFC 6750 §2: one method per request).
        let valid = Self.token(#"{"sub":"a","exp":\#(Self.inAnHour)}"#)
        let basic = await api.send("GET", "/events", headers: [("Authorization", "Basic dXNlcjpwYXNz")])
        #expect(basic.status == 401 && basic.text.contains("invalid_token"))
        let twice = await api.send("GET", "/events?token=" + valid, headers: [("Authorization", "Bearer " + valid)])
        #expect(twice.status == 401 && twice.text.contains("not both"))
        // Every refusal is counted (`syndicast_stream_token_refused_total`, the log's refusal classes).
        #expect(api.context.metrics.streamTokenRefused.load(ordering: .relaxed) == 16)
    }

    @Test("a valid token opens /ws (query) and /events (header) and carries its grant")
    func accepted() async {
        let api = Self.api()
        let exp = Self.inAnHour
        let token = Self.token(#"{"sub":"alice","exp":\#(exp)}"#)
        guard case .webSocket(let upgrade) = await api.send("GET", "/ws?token=" + token, headers: Self.upgradeHeaders) else {
            Issue.record("expected an upgrade")
            return
        }
        #expect(upgrade.stream.topics == Topic.defaults)
        #expect(upgrade.stream.grant == StreamGrant(subject: "alice", expires: Double(exp), topics: nil))
        guard case .serverSentEvents(let stream) = await api.send("GET", "/events", headers: [("authorization", "bearer " + token)])
        else {
            Issue.record("expected an SSE stream")
            return
        }
        #expect(stream.grant?.subject == "alice")
    }

    @Test("403 for a topic outside the topics claim; without ?topics= the claim is the subscription")
    func topicsClaim() async {
        let api = Self.api()
        let token = Self.token(#"{"sub":"desk","exp":\#(Self.inAnHour),"topics":["alerts","desk.7"]}"#)
        for path in ["/ws", "/events"] {
            let headers = path == "/ws" ? Self.upgradeHeaders : []
            let refused = await api.send("GET", path + "?topics=alerts,rankings&token=" + token, headers: headers)
            #expect(refused.status == 403, "\(path)")
            #expect(refused.header("WWW-Authenticate") == #"Bearer error="insufficient_scope""#)
            #expect(
                refused.text == #"{"error":{"code":"topic_not_allowed","message":"the stream token does not allow topic rankings"}}"#)
        }
        guard case .webSocket(let within) = await api.send("GET", "/ws?topics=desk.7&token=" + token, headers: Self.upgradeHeaders)
        else {
            Issue.record("expected an upgrade for a topic within the claim")
            return
        }
        #expect(within.stream.topics == ["desk.7"])
        guard case .serverSentEvents(let bare) = await api.send("GET", "/events?token=" + token) else {
            Issue.record("expected an SSE stream")
            return
        }
        #expect(bare.topics == ["alerts", "desk.7"])
    }

    @Test("without a secret, tokens are neither required nor looked at")
    func withoutSecret() async {
        let api = InProcessAPI()
        guard case .serverSentEvents(let stream) = await api.send("GET", "/events?token=garbage") else {
            Issue.record("expected an SSE stream")
            return
        }
        #expect(stream == StreamParameters(topics: Topic.defaults, since: nil, epoch: nil))
        #expect(stream.grant == nil)
    }

    @Test("the auth op parses; StreamMessages.authenticated names the renewed grant")
    func authOperation() {
        #expect(ClientOperation.parse(Array(#"{"op":"auth","token":"abc"}"#.utf8)) == .authenticate("abc"))
        #expect(ClientOperation.parse(Array(#"{"op":"auth","token":5}"#.utf8)) == .invalid("\"token\" must be a string"))
        let message = StreamMessages.authenticated(
            StreamGrant(subject: "a\"b", expires: 1_900_000_000, topics: nil), topics: ["stats", "alerts"])
        #expect(
            String(decoding: message, as: UTF8.self)
                == #"{"type":"authenticated","sub":"a\"b","exp":1900000000,"topics":["alerts","stats"]}"#)
    }
}
