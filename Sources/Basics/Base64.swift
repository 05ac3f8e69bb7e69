/// Base64 (RFC 4648): the standard alphabet with padding (§4: the WebSocket handshake's keys) and
/// the URL-safe alphabet without padding (§5, as JWS uses it: RFC 7515 §2), both decoded strictly
/// so that every byte string has exactly one accepted encoding.
public enum Base64 {
    /// The two alphabets of RFC 4648.
    public enum Alphabet: Sendable {
        /// `A–Z a–z 0–9 + /` (§4).
        case standard
        /// `A–Z a–z 0–9 - _` (§5, "URL and Filename safe").
        case url
    }

    private static let standardCharacters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let urlCharacters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Encodes `bytes`; `padded` appends `=` up to a multiple of 4 characters.
    public static func encode(_ bytes: some Collection<UInt8>, alphabet: Alphabet = .standard, padded: Bool = true) -> String {
        let characters = alphabet == .standard ? standardCharacters : urlCharacters
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in bytes {
            accumulator = (accumulator << 8) | UInt32(byte)
            bits += 8
            while bits >= 6 {
                bits -= 6
                output.append(characters[Int((accumulator >> UInt32(bits)) & 0x3F)])
            }
            accumulator &= (1 << UInt32(bits)) - 1
        }
        if bits > 0 { output.append(characters[Int((accumulator << UInt32(6 - bits)) & 0x3F)]) }
        if padded {
            while output.count % 4 != 0 { output.append(UInt8(ascii: "=")) }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Decodes `text` strictly, or returns nil: only the alphabet's characters; with `padded`, a
    /// length that is a multiple of 4 and `=` only as one or two final characters; without it, no
    /// `=` and a length that is not one more than a multiple of 4; in both, zero bits in the unused
    /// tail of the last character (RFC 4648 §3.5 lets a decoder reject the others).
    public static func decode(_ text: some Collection<UInt8>, alphabet: Alphabet = .standard, padded: Bool = true) -> [UInt8]? {
        let input = Array(text)
        var end = input.count
        if padded {
            guard input.count % 4 == 0 else { return nil }
            while end > 0, input.count - end < 2, input[end - 1] == UInt8(ascii: "=") { end -= 1 }
        }
        guard end % 4 != 1 else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(end * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in input[..<end] {
            guard let value = sextet(byte, alphabet) else { return nil }
            accumulator = (accumulator << 6) | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                accumulator &= (1 << UInt32(bits)) - 1
            }
        }
        guard accumulator == 0 else { return nil }
        return output
    }

    /// ``decode(_:alphabet:padded:)`` of a string's UTF-8 bytes.
    public static func decode(_ text: String, alphabet: Alphabet = .standard, padded: Bool = true) -> [UInt8]? {
        decode(Array(text.utf8), alphabet: alphabet, padded: padded)
    }

    private static func sextet(_ byte: UInt8, _ alphabet: Alphabet) -> UInt8? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): byte - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): byte - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+") where alphabet == .standard, UInt8(ascii: "-") where alphabet == .url: 62
        case UInt8(ascii: "/") where alphabet == .standard, UInt8(ascii: "_") where alphabet == .url: 63
        default: nil
        }
    }
}
