import COpenSSL

/// A Lua script with its SHA-1, for `EVALSHA` (the client loads it on `NOSCRIPT`).
///
/// Redis names a cached script by "the SHA1 digest of the script" (EVALSHA documentation), as
/// 40 lowercase hex characters; computing it here means the first call needs no `SCRIPT LOAD`
/// round trip when another instance has already loaded it.
public struct RedisScript: Sendable, Hashable {
    /// The Lua source.
    public let source: [UInt8]
    /// The SHA-1 of `source`, 40 lowercase hex characters (ASCII).
    public let sha1: [UInt8]

    /// A script from its source text.
    public init(_ source: String) {
        self.init(source: Array(source.utf8))
    }

    /// A script from its source bytes.
    public init(source: [UInt8]) {
        self.source = source
        var digest = [UInt8](repeating: 0, count: Int(SHA_DIGEST_LENGTH))
        source.withUnsafeBufferPointer { input in
            digest.withUnsafeMutableBufferPointer { output in
                _ = SHA1(input.baseAddress, input.count, output.baseAddress)
            }
        }
        let hex = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(40)
        for byte in digest {
            text.append(hex[Int(byte >> 4)])
            text.append(hex[Int(byte & 0x0f)])
        }
        self.sha1 = text
    }

    /// The SHA-1 as a `String`.
    public var sha1Text: String { String(decoding: sha1, as: UTF8.self) }
}
