/// JSON string literals (RFC 8259 §7): the one escaping rule every JSON body and event uses.
public enum JSONEscaping {
    /// Appends `string` as a quoted JSON string literal to `bytes`.
    ///
    /// RFC 8259 §7: "All Unicode characters may be placed within the quotation marks, except for
    /// the characters that MUST be escaped: quotation mark, reverse solidus, and the control
    /// characters (U+0000 through U+001F)." The two-character forms (`\"`, `\\`, `\b`, `\f`, `\n`,
    /// `\r`, `\t`) are used where they exist, `\u00XX` otherwise. U+2028 and U+2029 are escaped
    /// too, so the output is also safe inside JavaScript source. Runs of plain bytes are copied in
    /// one append (the `basics` micro-benchmark's escaped-string rows).
    @inlinable
    public static func appendQuoted(_ string: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        var copy = string
        copy.withUTF8 { utf8 in appendEscaped(utf8, to: &bytes) }
        bytes.append(UInt8(ascii: "\""))
    }

    /// `string` as a quoted JSON string literal.
    public static func quoted(_ string: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(string.utf8.count + 2)
        appendQuoted(string, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the escaped form of UTF-8 text, without quotes.
    @inlinable
    public static func appendEscaped(_ utf8: UnsafeBufferPointer<UInt8>, to bytes: inout [UInt8]) {
        var runStart = 0
        var index = plainASCIIPrefix(utf8)
        let count = utf8.count
        while index < count {
            let byte = utf8[index]
            guard byte < 0x20 || byte == 0x22 || byte == 0x5C || byte == 0xE2 else {
                index &+= 1
                continue
            }
            if byte == 0xE2 {
                // U+2028 is E2 80 A8, U+2029 is E2 80 A9; other E2 sequences pass through.
                guard index &+ 2 < count, utf8[index &+ 1] == 0x80, utf8[index &+ 2] & 0xFE == 0xA8 else {
                    index &+= 1
                    continue
                }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
                appendUnicodeEscape(utf8[index &+ 2] == 0xA8 ? 0x2028 : 0x2029, to: &bytes)
                index &+= 3
                runStart = index
                continue
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
            appendEscape(byte, to: &bytes)
            index &+= 1
            runStart = index
        }
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<count]))
    }

    /// The length of the leading 8-byte words that hold only printable ASCII other than `"` and
    /// `\\` (SWAR), so most ids are copied without a per-byte test. Run once per string, as
    /// `JSONScanner.skipPlainASCII` does: the `basics` micro-benchmark's transaction encode
    /// runs fewer instructions with it than with the per-byte test alone.
    @inlinable @inline(__always)
    static func plainASCIIPrefix(_ utf8: UnsafeBufferPointer<UInt8>) -> Int {
        guard let base = utf8.baseAddress else { return 0 }
        let raw = UnsafeRawPointer(base)
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        var position = 0
        while position &+ 8 <= utf8.count {
            let word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: position, as: UInt64.self))
            let quote = word ^ (ones &* 0x22)
            let backslash = word ^ (ones &* 0x5C)
            // A byte is flagged when it is zero (in `quote`/`backslash`), below 0x20, or ≥ 0x80.
            let special =
                ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | (word &- ones &* 0x20) | word
            guard special & highs == 0 else { return position }
            position &+= 8
        }
        return position
    }

    /// Appends the escape of a quotation mark, reverse solidus or control byte.
    @inlinable
    static func appendEscape(_ byte: UInt8, to bytes: inout [UInt8]) {
        let short: UInt8
        switch byte {
        case 0x22: short = 0x22
        case 0x5C: short = 0x5C
        case 0x08: short = UInt8(ascii: "b")
        case 0x0C: short = UInt8(ascii: "f")
        case 0x0A: short = UInt8(ascii: "n")
        case 0x0D: short = UInt8(ascii: "r")
        case 0x09: short = UInt8(ascii: "t")
        default:
            appendUnicodeEscape(UInt16(byte), to: &bytes)
            return
        }
        bytes.append(UInt8(ascii: "\\"))
        bytes.append(short)
    }

    /// Appends `\uXXXX` with lower-case hex digits.
    @inlinable
    static func appendUnicodeEscape(_ unit: UInt16, to bytes: inout [UInt8]) {
        let hexDigits: StaticString = "0123456789abcdef"
        let digits = hexDigits.utf8Start
        bytes.append(UInt8(ascii: "\\"))
        bytes.append(UInt8(ascii: "u"))
        bytes.append(digits[Int(unit >> 12)])
        bytes.append(digits[Int(unit >> 8 & 0x0F)])
        bytes.append(digits[Int(unit >> 4 & 0x0F)])
        bytes.append(digits[Int(unit & 0x0F)])
    }
}
