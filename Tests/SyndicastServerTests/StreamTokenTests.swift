import Foundation
import Testing

@testable import SyndicastServer

/// ``StreamTokenVerifier`` against tokens made independently of it: golden tokens signed with
/// Python's `hmac` module (below), and the RFC 4231 HMAC-SHA256 vector. The clock is the
/// argument `now`, fixed at 1,700,000,000 (2023-11-14).
@Suite("Stream tokens: HS256 JWT verification")
struct StreamTokenTests {
    static let secret = Array("test-secret-0123456789abcdef".utf8)
    static let now: Double = 1_700_000_000
    static let verifier = StreamTokenVerifier(secret: secret)

    /// Made with Python 3:
    /// ```
    /// import hmac, hashlib, base64, json
    /// b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
    /// def tok(header, claims, secret=b"test-secret-0123456789abcdef", digest=hashlib.sha256):
    ///     h = b64(json.dumps(header, separators=(",", ":")).encode())
    ///     c = b64(claims if isinstance(claims, bytes) else json.dumps(claims, separators=(",", ":")).encode())
    ///     return f"{h}.{c}." + b64(hmac.new(secret, f"{h}.{c}".encode(), digest).digest())
    /// H = {"alg": "HS256", "typ": "JWT"}
    /// tok(H, {"sub": "alice", "exp": 2000000000})                                   # valid
    /// tok(H, {"sub": "desk-7", "exp": 2000000000, "nbf": 1600000000, "topics": ["alerts", "desk.7"]})
    /// tok(H, {...valid claims...}, secret=b"another-secret-0123456789")              # otherSecret
    /// tok({"alg": "HS512", "typ": "JWT"}, {...}, digest=hashlib.sha512)               # hs512
    /// ```
    /// and so on for each case: the claims named by the constant's name.
    enum Golden {
        static let valid =
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImV4cCI6MjAwMDAwMDAwMH0.jwn4e4_xk39lxwIZoNNwkh4deOSDJU3KtTJnNJCIIAw"
        static let topics =
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJkZXNrLTciLCJleHAiOjIwMDAwMDAwMDAsIm5iZiI6MTYwMDAwMDAwMCwidG9waWNzIjpbImFsZXJ0cyIsImRlc2suNyJdfQ.v_fD6wo5KVve7sbc23hNJ3RNRbEyH3mtT_UqkIj2IRA"
        static let otherSecret =
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImV4cCI6MjAwMDAwMDAwMH0.xqP61ipM8UHmmLKd_glLIcXEtok8PulJ9imdyLsEnLE"
        static let hs512 =
            "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImV4cCI6MjAwMDAwMDAwMH0.FojOwBg3PNH255r39BIdRuT4fiqfv9Sqi4nZpH3wnwInDt9WNaZtQgbXl1n6sEOD2HNKTz0GTb-Mvp_OW9VWBw"
        /// `{"alg":"none","typ":"JWT"}`, the valid claims and an empty signature.
        static let algNone = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJhbGljZSIsImV4cCI6MjAwMDAwMDAwMH0."
        /// `exp` 1690000000.
        static let expired =
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImV4cCI6MTY5MDAwMDAwMH0.rzyMX6Bd6yk4Pwgy19Ghy3lncNRV0w5K4wHbllwXl0M"
        /// `nbf` 1800000000.
        static let notBefore =
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImV4cCI6MjAwMDAwMDAwMCwibmJmIjoxODAwMDAwMDAwfQ.7NjoaTmbjLbc7-bCuag3osZaGwt_V93dT9spzE1ymd4"
        static let missingExp =
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSJ9.YkpvQNcBlHVESK_ugyRFbEf3IMtSj-9mVxgpaKqbPjQ"
        static let missingSub =
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjIwMDAwMDAwMDB9.-6dvjF0LzOCbiuiMbwk1JmqhFAT5ECdhRaHYpiaocJE"
        /// `"exp":"2000000000"`.
        static let stringExp =
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImV4cCI6IjIwMDAwMDAwMDAifQ.AJcJp4SReRjiN-fBc8wwjj1XybDTex4xq4LALMaP7qg"
        /// `"exp":true`.
        static let boolExp =
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImV4cCI6dHJ1ZX0._3fn4I_6kg7VjjGtKY46EPttkA82HjwEDXM2vFOLb6w"
        /// `"topics":["alerts","no spaces"]`.
        static let badTopic =
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImV4cCI6MjAwMDAwMDAwMCwidG9waWNzIjpbImFsZXJ0cyIsIm5vIHNwYWNlcyJdfQ.GT6RvA7ISZYXP3mMzU2AeUS4DLgl35U20SOq0DtSE9c"
        /// `"topics":[1]`.
        static let topicsNotStrings =
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImV4cCI6MjAwMDAwMDAwMCwidG9waWNzIjpbMV19.93STSGDPyXclzMrNVZhkqknzuIuY_XqrpOrNVsTSn4Q"
        /// Header `{"alg":"HS256","crit":["b64"],"b64":false}`.
        static let crit =
            "eyJhbGciOiJIUzI1NiIsImNyaXQiOlsiYjY0Il0sImI2NCI6ZmFsc2V9.eyJzdWIiOiJhbGljZSIsImV4cCI6MjAwMDAwMDAwMH0.HyF124UUqPpaLxLxNE04IOhW0t7WC-i_E3J3oHN2-j8"
        /// Claims `[1,2]`.
        static let claimsArray = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.WzEsMl0.DYodEuobMw7XIKr9RjkSmyPSSQhXqO8DrUBGFjAXaSE"
        /// Claims `{sub:alice}` (not JSON).
        static let claimsNotJSON = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e3N1YjphbGljZX0.BMSxSkDiJH-W1lWXlqWcrCXt82-hsH13w876jr-uuaE"
    }

    @Test("a valid token grants its subject and expiry, with no topic limit")
    func valid() {
        let grant = Self.verifier.verify(Golden.valid, now: Self.now)
        #expect(grant == .success(StreamGrant(subject: "alice", expires: 2_000_000_000, topics: nil)))
        #expect((try? grant.get())?.allows("transactions") == true)
        #expect((try? grant.get())?.millisecondsLeft(now: Self.now) == 300_000_000_000)
    }

    @Test("the topics claim limits what the grant allows; nbf in the past passes")
    func topicsClaim() throws {
        let grant = try Self.verifier.verify(Golden.topics, now: Self.now).get()
        #expect(grant.subject == "desk-7" && grant.topics == ["alerts", "desk.7"])
        #expect(grant.allows("alerts") && grant.allows("desk.7"))
        #expect(!grant.allows("rankings") && !grant.allows("desk.8"))
        #expect(grant.firstRefused(["alerts", "transactions", "rankings"]) == "rankings")
        #expect(grant.firstRefused(["desk.7"]) == nil)
        #expect(
            Self.verifier.verify(Golden.badTopic, now: Self.now) == .failure(.invalidClaims("not a topic name in \"topics\": no spaces")))
        #expect(isInvalidClaims(Self.verifier.verify(Golden.topicsNotStrings, now: Self.now)))
    }

    @Test("a signature made with another secret, or over changed claims, is refused")
    func wrongSignature() {
        #expect(Self.verifier.verify(Golden.otherSecret, now: Self.now) == .failure(.badSignature))
        #expect(
            StreamTokenVerifier(secret: Array("another-secret-0123456789".utf8)).verify(Golden.valid, now: Self.now)
                == .failure(.badSignature))
        // The valid token's signature over claims naming another subject.
        let parts = Golden.valid.split(separator: ".").map(String.init)
        let forged = [parts[0], StreamTokenVerifier.Base64URL.encode(Array(#"{"sub":"mallory","exp":2000000000}"#.utf8)), parts[2]].joined(
            separator: ".")
        #expect(Self.verifier.verify(forged, now: Self.now) == .failure(.badSignature))
        // A signature cut to 30 bytes (40 characters, still canonical base64url), and an empty one.
        #expect(Self.verifier.verify(String(Golden.valid.dropLast(3)), now: Self.now) == .failure(.badSignature))
        #expect(Self.verifier.verify(parts[0] + "." + parts[1] + ".", now: Self.now) == .failure(.badSignature))
    }

    @Test("alg none and alg HS512 are refused whatever the signature")
    func otherAlgorithms() {
        #expect(Self.verifier.verify(Golden.algNone, now: Self.now) == .failure(.unsupportedAlgorithm("none")))
        #expect(Self.verifier.verify(Golden.hs512, now: Self.now) == .failure(.unsupportedAlgorithm("HS512")))
        // `none` with a signature that is valid HS256 over its input is still refused.
        let header = StreamTokenVerifier.Base64URL.encode(Array(#"{"alg":"none"}"#.utf8))
        let claims = StreamTokenVerifier.Base64URL.encode(Array(#"{"sub":"alice","exp":2000000000}"#.utf8))
        let input = Array("\(header).\(claims)".utf8)
        let signature = StreamTokenVerifier.Base64URL.encode(
            StreamTokenVerifier.HMACSHA256.authenticationCode(key: Self.secret, message: input) ?? [])
        #expect(Self.verifier.verify("\(header).\(claims).\(signature)", now: Self.now) == .failure(.unsupportedAlgorithm("none")))
        // Case matters: "hs256" is not "HS256" (RFC 7518 §3.1 names are case-sensitive).
        let lower = StreamTokenVerifier.Base64URL.encode(Array(#"{"alg":"hs256"}"#.utf8))
        #expect(Self.verifier.verify("\(lower).\(claims).\(signature)", now: Self.now) == .failure(.unsupportedAlgorithm("hs256")))
        #expect(Self.verifier.verify(Golden.crit, now: Self.now) == .failure(.unsupportedAlgorithm("HS256 with crit")))
    }

    @Test("exp at or before now, and nbf after now, are refused")
    func clock() {
        #expect(Self.verifier.verify(Golden.expired, now: Self.now) == .failure(.expired))
        // exp is exclusive: at exactly exp the token has expired (RFC 7519 §4.1.4).
        #expect(Self.verifier.verify(Golden.valid, now: 2_000_000_000) == .failure(.expired))
        #expect((try? Self.verifier.verify(Golden.valid, now: 1_999_999_999.5).get()) != nil)
        #expect(Self.verifier.verify(Golden.notBefore, now: Self.now) == .failure(.notYetValid))
        #expect((try? Self.verifier.verify(Golden.notBefore, now: 1_800_000_000).get()) != nil)
    }

    @Test("missing or mistyped claims are refused")
    func claims() {
        #expect(Self.verifier.verify(Golden.missingExp, now: Self.now) == .failure(.invalidClaims("missing \"exp\"")))
        #expect(Self.verifier.verify(Golden.missingSub, now: Self.now) == .failure(.invalidClaims("missing \"sub\"")))
        #expect(isInvalidClaims(Self.verifier.verify(Golden.stringExp, now: Self.now)))
        #expect(isInvalidClaims(Self.verifier.verify(Golden.boolExp, now: Self.now)))
        #expect(isInvalidClaims(Self.verifier.verify(Golden.claimsArray, now: Self.now)))
        #expect(isInvalidClaims(Self.verifier.verify(Golden.claimsNotJSON, now: Self.now)))
    }

    @Test("malformed tokens: segments, base64url alphabet and padding, header JSON, length")
    func malformed() {
        let parts = Golden.valid.split(separator: ".").map(String.init)
        let cases = [
            "", "abc", parts[0] + "." + parts[1], Golden.valid + ".x",
            // Padding, the standard alphabet's + and /, white space.
            parts[0] + "=." + parts[1] + "." + parts[2],
            parts[0] + "." + parts[1] + "." + parts[2].replacingOccurrences(of: "_", with: "/"),
            parts[0] + "." + parts[1] + " ." + parts[2],
            // A header that is not JSON, one without alg, one whose alg is a number.
            StreamTokenVerifier.Base64URL.encode(Array("{alg:HS256}".utf8)) + "." + parts[1] + "." + parts[2],
            StreamTokenVerifier.Base64URL.encode(Array(#"{"typ":"JWT"}"#.utf8)) + "." + parts[1] + "." + parts[2],
            StreamTokenVerifier.Base64URL.encode(Array(#"{"alg":256}"#.utf8)) + "." + parts[1] + "." + parts[2],
            String(repeating: "a", count: StreamTokenVerifier.maximumLength + 1),
        ]
        for token in cases {
            guard case .failure(.malformed) = Self.verifier.verify(token, now: Self.now) else {
                Issue.record("accepted or misclassified: \(token.prefix(60))")
                continue
            }
        }
    }

    @Test("a member named twice, or spelled with an escape, in the header or the claims is refused")
    func duplicateNames() {
        // JSONDecoder would take the first `exp` (1, expired) where another parser takes the last.
        let cases: [(header: String, claims: String, expected: StreamTokenVerifier.Failure)] = [
            (#"{"alg":"HS256"}"#, #"{"sub":"a","exp":1,"exp":2000000000}"#, .invalidClaims("a claim is named twice or with an escape")),
            (#"{"alg":"HS256"}"#, #"{"sub":"a","\u0065xp":2000000000}"#, .invalidClaims("a claim is named twice or with an escape")),
            (
                #"{"alg":"HS256","alg":"none"}"#, #"{"sub":"a","exp":2000000000}"#,
                .malformed("header names a member twice or with an escape")
            ),
        ]
        for (header, claims, expected) in cases {
            #expect(
                Self.verifier.verify(Self.sign(header: header, claims: claims), now: Self.now) == .failure(expected), "\(header) \(claims)")
        }
        // The same name nested, or as a value, is not a duplicate.
        let nested = Self.sign(
            header: #"{"alg":"HS256","kid":"alg"}"#, claims: #"{"sub":"exp","exp":2000000000,"x":{"exp":1,"sub":[{"exp":2}]}}"#)
        #expect((try? Self.verifier.verify(nested, now: Self.now).get())?.subject == "exp")
        #expect(
            !StreamTokenVerifier.JSONMemberNames.hasDuplicateOrEscapedNames(Array(#"{"a":"\"a\"","b":["a","a"],"c":{"a":1,"a":2}}"#.utf8)))
        #expect(StreamTokenVerifier.JSONMemberNames.hasDuplicateOrEscapedNames(Array(#"{"a":[1,{"b":2}],"a":3}"#.utf8)))
    }

    /// A token over exactly these header and claims bytes (for shapes `json.dumps` cannot make).
    static func sign(header: String, claims: String) -> String {
        let input =
            StreamTokenVerifier.Base64URL.encode(Array(header.utf8)) + "." + StreamTokenVerifier.Base64URL.encode(Array(claims.utf8))
        return input + "."
            + StreamTokenVerifier.Base64URL.encode(
                StreamTokenVerifier.HMACSHA256.authenticationCode(key: secret, message: Array(input.utf8)) ?? [])
    }

    @Test("base64url: round trip, no padding, canonical tail bits only")
    func base64URL() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 250) }
            let text = StreamTokenVerifier.Base64URL.encode(bytes)
            #expect(!text.contains("=") && !text.contains("+") && !text.contains("/"))
            #expect(StreamTokenVerifier.Base64URL.decode(Array(text.utf8)) == bytes)
        }
        #expect(StreamTokenVerifier.Base64URL.encode(Array("any carnal pleas".utf8)) == "YW55IGNhcm5hbCBwbGVhcw")
        #expect(StreamTokenVerifier.Base64URL.decode(Array("YW55IGNhcm5hbCBwbGVhcw".utf8)) == Array("any carnal pleas".utf8))
        // "QQ" is "A"; "QR" has a non-zero bit in the unused tail, "Q" alone cannot be a length.
        #expect(StreamTokenVerifier.Base64URL.decode(Array("QQ".utf8)) == [0x41])
        #expect(StreamTokenVerifier.Base64URL.decode(Array("QR".utf8)) == nil)
        #expect(StreamTokenVerifier.Base64URL.decode(Array("Q".utf8)) == nil)
        #expect(StreamTokenVerifier.Base64URL.decode(Array("QQ==".utf8)) == nil)
    }

    @Test("HMAC-SHA256 matches RFC 4231 test case 2; comparison needs equal lengths")
    func hmacVector() {
        let code = StreamTokenVerifier.HMACSHA256.authenticationCode(
            key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
        let hex = (code ?? []).map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
        #expect(hex == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        #expect(StreamTokenVerifier.HMACSHA256.constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!StreamTokenVerifier.HMACSHA256.constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!StreamTokenVerifier.HMACSHA256.constantTimeEquals([1, 2, 3], [1, 2]))
    }

    private func isInvalidClaims(_ result: Result<StreamGrant, StreamTokenVerifier.Failure>) -> Bool {
        if case .failure(.invalidClaims) = result { return true }
        return false
    }
}
