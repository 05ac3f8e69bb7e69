/// JSON string literals (RFC 8259 §7).
public enum JSONEscaping {
    /// Appends `string` as a quoted JSON string literal to `bytes`.
    ///
    /// RFC 8259 §7: "All Unicode characters may be placed within the quotation marks, except for
    /// the characters that MUST be escaped: quotation mark, reverse solidus, and the control
    /// characters (U+0000 through U+001F)." U+2028 and U+2029 are escaped too so the output is
    /// also safe inside JavaScript source.
    public static func appendQuoted(_ string: String, to bytes: inout [UInt8]) {
        let hexDigits: StaticString = "0123456789abcdef"
        bytes.append(ASCII.doubleQuote)
        var utf8 = Array(string.utf8)[...]
        while let byte = utf8.popFirst() {
            switch byte {
            case ASCII.doubleQuote: bytes.append(contentsOf: #"\""#.utf8)
            case ASCII.backslash: bytes.append(contentsOf: #"\\"#.utf8)
            case 0x0A: bytes.append(contentsOf: #"\n"#.utf8)
            case 0x0D: bytes.append(contentsOf: #"\r"#.utf8)
            case 0x09: bytes.append(contentsOf: #"\t"#.utf8)
            case 0x08: bytes.append(contentsOf: #"\b"#.utf8)
            case 0x0C: bytes.append(contentsOf: #"\f"#.utf8)
            case 0x00..<0x20:
                bytes.append(contentsOf: #"\u00"#.utf8)
                bytes.append(hexDigits.utf8Start[Int(byte >> 4)])
                bytes.append(hexDigits.utf8Start[Int(byte & 0x0F)])
            case 0xE2
            where utf8.count >= 2 && utf8[utf8.startIndex] == 0x80
                && (utf8[utf8.startIndex + 1] == 0xA8 || utf8[utf8.startIndex + 1] == 0xA9):
                bytes.append(contentsOf: utf8[utf8.startIndex + 1] == 0xA8 ? #"\u2028"#.utf8 : #"\u2029"#.utf8)
                utf8.removeFirst(2)
            default: bytes.append(byte)
            }
        }
        bytes.append(ASCII.doubleQuote)
    }

    /// `string` as a quoted JSON string literal.
    public static func quoted(_ string: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(string.utf8.count + 2)
        appendQuoted(string, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
}
