import Basics
import COpenSSL

/// The encodings a token is checked with: base64url, HMAC-SHA256 and the JSON member names.
extension StreamTokenVerifier {
    /// Base64url without padding, the encoding of every JWS segment (RFC 7515 §2: "Base64url
    /// Encoding ... with all trailing '=' characters omitted").
    enum Base64URL {
        /// Decodes `text` strictly (``Base64/decode(_:alphabet:padded:)``: only `A-Z a-z 0-9 - _`,
        /// no `=`, zero bits in the unused tail), nil for anything else.
        static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
            Base64.decode(text, alphabet: .url, padded: false)
        }

        /// Encodes `bytes` without padding (used by the tests and by anything minting a token).
        static func encode(_ bytes: some Collection<UInt8>) -> String {
            Base64.encode(bytes, alphabet: .url, padded: false)
        }
    }

    /// HMAC-SHA256 (RFC 2104) through OpenSSL, the MAC of JWS `HS256` (RFC 7518 §3.2).
    enum HMACSHA256 {
        /// The 32-byte authentication code of `message` under `key`, or nil if OpenSSL fails.
        static func authenticationCode(key: [UInt8], message: some Collection<UInt8>) -> [UInt8]? {
            var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
            var length: UInt32 = 0
            let message = Array(message)
            let produced = key.withUnsafeBytes { keyBytes in
                message.withUnsafeBytes { messageBytes in
                    output.withUnsafeMutableBufferPointer { out in
                        HMAC(
                            EVP_sha256(), keyBytes.baseAddress, Int32(keyBytes.count),
                            messageBytes.baseAddress?.assumingMemoryBound(to: UInt8.self),
                            messageBytes.count, out.baseAddress, &length)
                    }
                }
            }
            guard produced != nil, length == 32 else { return nil }
            return Array(output[0..<32])
        }

        /// Whether `left` and `right` are equal, in time that depends only on their lengths
        /// (`CRYPTO_memcmp`), so a forger learns nothing from how long a refusal took.
        static func constantTimeEquals(_ left: [UInt8], _ right: [UInt8]) -> Bool {
            guard left.count == right.count else { return false }
            return left.withUnsafeBytes { leftBytes in
                right.withUnsafeBytes { rightBytes in
                    CRYPTO_memcmp(leftBytes.baseAddress, rightBytes.baseAddress, leftBytes.count) == 0
                }
            }
        }
    }

    /// The member names at the top level of a JSON object, to refuse duplicates: RFC 7515 §5.2 "JWS
    /// parsers MUST either reject JWSs with duplicate Header Parameter names or use a JSON parser
    /// that returns only the lexically last duplicate member name", and Foundation's `JSONDecoder`
    /// keeps the first.
    enum JSONMemberNames {
        /// Whether the object `json` (already known to be valid JSON) names a member twice at its top
        /// level, or names one with a backslash escape (which could spell a name twice in two ways).
        static func hasDuplicateOrEscapedNames(_ json: [UInt8]) -> Bool {
            var names = Set<ArraySlice<UInt8>>()
            var depth = 0
            var expectingName = false
            var index = 0
            while index < json.count {
                switch json[index] {
                case UInt8(ascii: "\""):
                    var end = index + 1
                    var escaped = false
                    while end < json.count, json[end] != UInt8(ascii: "\"") {
                        if json[end] == UInt8(ascii: "\\") {
                            escaped = true
                            end += 1
                        }
                        end += 1
                    }
                    if depth == 1 && expectingName {
                        let name = json[min(index + 1, json.count)..<min(end, json.count)]
                        if escaped || !names.insert(name).inserted { return true }
                        expectingName = false
                    }
                    index = end
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                    expectingName = depth == 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                case UInt8(ascii: ","):
                    if depth == 1 { expectingName = true }
                default:
                    break
                }
                index += 1
            }
            return false
        }
    }
}
