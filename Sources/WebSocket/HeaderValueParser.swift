/// Parses the comma lists of HTTP header values used by the opening handshake (RFC 7230 §3.2.6,
/// §7; RFC 6455 §9.1).
enum HeaderValueParser {
    /// The elements of a `#token` list, trimmed, empty elements skipped (RFC 7230 §7).
    static func tokens(_ value: String) -> [Substring] {
        value.split(separator: ",").map { trim($0) }.filter { !$0.isEmpty }
    }

    /// True when any header value's comma list contains `token`, compared case-insensitively.
    static func listContains(_ values: [String], token: String) -> Bool {
        values.contains { value in
            tokens(value).contains { equalsIgnoringASCIICase($0, token) }
        }
    }

    /// Parses a `Sec-WebSocket-Extensions` value (RFC 6455 §9.1):
    /// `extension-list = 1#extension; extension = token *( ";" param ); param = token [ "=" (token |
    /// quoted-string) ]`. Names are lowercased; quoted values are unquoted. Nil on a syntax error.
    static func extensions(_ value: String) -> [(name: String, parameters: [(name: String, value: String?)])]? {
        var result: [(name: String, parameters: [(name: String, value: String?)])] = []
        var scanner = Scanner(Array(value.utf8))
        while true {
            scanner.skipWhitespace()
            if scanner.isAtEnd { break }
            if scanner.consume(UInt8(ascii: ",")) { continue }
            guard let name = scanner.token() else { return nil }
            var parameters: [(name: String, value: String?)] = []
            scanner.skipWhitespace()
            while scanner.consume(UInt8(ascii: ";")) {
                scanner.skipWhitespace()
                guard let parameterName = scanner.token() else { return nil }
                scanner.skipWhitespace()
                var parameterValue: String?
                if scanner.consume(UInt8(ascii: "=")) {
                    scanner.skipWhitespace()
                    if let quoted = scanner.quotedString() {
                        // RFC 7692 §7.1: a quoted value must still be a token once unquoted.
                        guard !quoted.isEmpty, quoted.utf8.allSatisfy(Scanner.isTokenCharacter) else { return nil }
                        parameterValue = quoted
                    } else {
                        guard let token = scanner.token() else { return nil }
                        parameterValue = token
                    }
                    scanner.skipWhitespace()
                }
                parameters.append((parameterName.lowercased(), parameterValue))
            }
            guard scanner.isAtEnd || scanner.consume(UInt8(ascii: ",")) else { return nil }
            result.append((name.lowercased(), parameters))
        }
        return result
    }

    static func trim(_ text: Substring) -> Substring {
        let isWhitespace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = text.firstIndex(where: { !isWhitespace($0) }),
            let last = text.lastIndex(where: { !isWhitespace($0) })
        else { return "" }
        return text[first...last]
    }

    static func equalsIgnoringASCIICase<Left: StringProtocol, Right: StringProtocol>(_ left: Left, _ right: Right) -> Bool {
        guard left.utf8.count == right.utf8.count else { return false }
        return zip(left.utf8, right.utf8).allSatisfy { lowercase($0) == lowercase($1) }
    }

    private static func lowercase(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
    }

    /// A cursor over header bytes.
    struct Scanner {
        let bytes: [UInt8]
        var index = 0

        init(_ bytes: [UInt8]) {
            self.bytes = bytes
        }

        var isAtEnd: Bool { index >= bytes.count }

        mutating func skipWhitespace() {
            while index < bytes.count, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") {
                index += 1
            }
        }

        mutating func consume(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        /// `token = 1*tchar` (RFC 7230 §3.2.6).
        mutating func token() -> String? {
            let start = index
            while index < bytes.count, Self.isTokenCharacter(bytes[index]) { index += 1 }
            guard index > start else { return nil }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }

        /// `quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE`; nil if not at a quote, or
        /// unterminated (the caller then fails on the token it expects).
        mutating func quotedString() -> String? {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
            var position = index + 1
            var content: [UInt8] = []
            while position < bytes.count {
                let byte = bytes[position]
                if byte == UInt8(ascii: "\"") {
                    index = position + 1
                    return String(decoding: content, as: UTF8.self)
                }
                if byte == UInt8(ascii: "\\") {
                    position += 1
                    guard position < bytes.count else { return nil }
                }
                content.append(bytes[position])
                position += 1
            }
            return nil
        }

        /// `tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" /
        /// "|" / "~" / DIGIT / ALPHA`.
        static func isTokenCharacter(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "A")...UInt8(ascii: "Z"):
                true
            default:
                Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
            }
        }
    }
}
