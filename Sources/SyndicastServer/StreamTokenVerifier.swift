import Broker
import Foundation

/// Verifies the HS256 JSON Web Tokens that `--stream-token-secret` requires on `/ws` and `/events`
/// (RFC 7519 in the JWS compact serialization of RFC 7515 §7.1). Sans-I/O: the clock is an
/// argument, so expiry and `nbf` are tested without waiting.
///
/// Only `alg` `HS256` is accepted: RFC 8725 §3.1 "libraries MUST enable the caller to specify a
/// supported set of algorithms and MUST NOT use any other algorithms", which rules out `none` and
/// the algorithm-confusion attacks. The signature is compared in constant time.
struct StreamTokenVerifier: Sendable {
    /// Why a token was refused; the handshake answers every case with 401 `invalid_token`.
    enum Failure: Error, Equatable {
        /// Not three base64url segments of a JSON header and claims set.
        case malformed(String)
        /// The header names another algorithm than HS256, or an extension (`crit`) we do not know.
        case unsupportedAlgorithm(String)
        case badSignature
        case expired
        case notYetValid
        /// A required claim is missing or has the wrong type.
        case invalidClaims(String)

        /// One sentence for the client.
        var message: String {
            switch self {
            case .malformed(let reason): "malformed stream token: \(reason)"
            case .unsupportedAlgorithm(let algorithm): "stream token algorithm \(algorithm) is not accepted; use HS256"
            case .badSignature: "stream token signature does not verify"
            case .expired: "stream token has expired"
            case .notYetValid: "stream token is not valid yet (nbf)"
            case .invalidClaims(let reason): "stream token claims: \(reason)"
            }
        }
    }

    /// Longest token looked at; a request head is bounded anyway, this keeps decoding small.
    static let maximumLength = 4_096
    /// Fewest secret bytes `--stream-token-secret` accepts (RFC 7518 §3.2: "A key of the same size
    /// as the hash output (for instance, 256 bits for HS256) or larger MUST be used"; 16 is the
    /// floor below which the server refuses to start, 32 is what the README recommends).
    static let minimumSecretLength = 16

    private let key: [UInt8]

    init(secret: [UInt8]) {
        self.key = secret
    }

    /// The grant of `token` at `now` (seconds since the Unix epoch), or why it is refused.
    func verify(_ token: String, now: Double) -> Result<StreamGrant, Failure> {
        let bytes = Array(token.utf8)
        guard bytes.count <= Self.maximumLength else { return .failure(.malformed("longer than \(Self.maximumLength) bytes")) }
        let parts = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3 else { return .failure(.malformed("expected header.payload.signature")) }
        guard let headerBytes = Base64URL.decode(parts[0]), let claimBytes = Base64URL.decode(parts[1]),
            let signature = Base64URL.decode(parts[2])
        else { return .failure(.malformed("not base64url without padding")) }

        // The header is checked before the signature: an unexpected algorithm is refused
        // whatever the signature says.
        guard let header = try? JSONDecoder().decode(Header.self, from: Data(headerBytes)) else {
            return .failure(.malformed("header is not a JSON object with a string \"alg\""))
        }
        guard !JSONMemberNames.hasDuplicateOrEscapedNames(headerBytes) else {
            return .failure(.malformed("header names a member twice or with an escape"))
        }
        guard header.alg == "HS256" else { return .failure(.unsupportedAlgorithm(header.alg)) }
        // RFC 7515 §4.1.11: a recipient that does not understand a listed extension MUST reject.
        if header.crit != nil { return .failure(.unsupportedAlgorithm("HS256 with crit")) }

        // RFC 7515 §5.2: the signing input is the encoded header, ".", the encoded payload.
        let signingInput = bytes[..<(parts[1].endIndex)]
        guard let expected = HMACSHA256.authenticationCode(key: key, message: signingInput),
            HMACSHA256.constantTimeEquals(expected, signature)
        else { return .failure(.badSignature) }

        let claims: Claims
        do {
            claims = try JSONDecoder().decode(Claims.self, from: Data(claimBytes))
        } catch DecodingError.keyNotFound(let key, _) {
            return .failure(.invalidClaims("missing \"\(key.stringValue)\""))
        } catch {
            return .failure(.invalidClaims("expected exp and nbf as numbers, sub as a string, topics as an array of strings"))
        }
        guard !JSONMemberNames.hasDuplicateOrEscapedNames(claimBytes) else {
            return .failure(.invalidClaims("a claim is named twice or with an escape"))
        }
        return grant(claims, now: now)
    }

    /// Checks the claims' values and the clock (RFC 7519 §4.1.4, §4.1.5).
    private func grant(_ claims: Claims, now: Double) -> Result<StreamGrant, Failure> {
        guard claims.exp.isFinite, claims.nbf?.isFinite ?? true else { return .failure(.invalidClaims("dates must be finite")) }
        guard !claims.sub.isEmpty else { return .failure(.invalidClaims("\"sub\" is empty")) }
        var topics: Set<String>?
        if let names = claims.topics {
            if let bad = names.first(where: { !Topic.reserved.contains($0) && !Topic.isValidCustom($0) }) {
                return .failure(.invalidClaims("not a topic name in \"topics\": \(bad)"))
            }
            topics = Set(names)
        }
        // §4.1.4: "the current date/time MUST be before the expiration date/time".
        guard now < claims.exp else { return .failure(.expired) }
        // §4.1.5: "the current date/time MUST be after or equal to the not-before date/time".
        if let notBefore = claims.nbf, now < notBefore { return .failure(.notYetValid) }
        return .success(StreamGrant(subject: claims.sub, expires: claims.exp, topics: topics))
    }

    /// The JOSE header fields looked at; others are ignored (RFC 7515 §4).
    private struct Header: Decodable {
        let alg: String
        let crit: [String]?
    }

    /// The claims looked at; others are ignored (RFC 7519 §4: "all claims that are not
    /// understood by implementations MUST be ignored").
    private struct Claims: Decodable {
        let exp: Double
        let sub: String
        let nbf: Double?
        let topics: [String]?
    }

    /// Seconds since the Unix epoch by the wall clock (`exp` and `nbf` are wall-clock dates).
    static func wallClockSeconds() -> Double {
        Date().timeIntervalSince1970
    }
}
