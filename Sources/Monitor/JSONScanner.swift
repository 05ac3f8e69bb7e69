import Basics

/// A JSON syntax error at a byte offset of the body.
struct JSONSyntaxError: Error, Sendable {
    /// Byte offset in the whole body.
    var offset: Int
    /// What was wrong, e.g. `"expected ':'"`.
    var reason: String
}

/// The raw bytes of a JSON string, between its quotes, as found by ``JSONScanner/scanString()``.
struct JSONStringToken {
    /// First byte after the opening quote.
    var start: Int
    /// Offset of the closing quote.
    var end: Int
    /// Whether the raw bytes contain a backslash escape.
    var hasEscapes: Bool
}

/// A cursor over JSON bytes (RFC 8259) that validates while it skips; no allocation on the fast path.
///
/// Every read is guarded by `index < end`; nothing the peer sends can trap. Nesting is limited by
/// `maximumDepth` so that recursion in ``skipValue(depth:)`` is bounded.
struct JSONScanner {
    let buffer: UnsafeRawBufferPointer
    var index: Int
    /// One past the last byte to read (an NDJSON line ends before its `\n`).
    var end: Int
    let maximumDepth: Int
    /// Reused output of ``unescape(_:)``, so escaped strings do not allocate a buffer each.
    var scratch: [UInt8] = []

    init(buffer: UnsafeRawBufferPointer, start: Int, end: Int, maximumDepth: Int) {
        self.buffer = buffer
        self.index = start
        self.end = end
        self.maximumDepth = maximumDepth
    }

    @inline(__always) var atEnd: Bool { index >= end }

    @inline(__always) func peek() -> UInt8? {
        index < end ? buffer[index] : nil
    }

    /// Skips JSON whitespace: RFC 8259 §2 `ws = *( %x20 / %x09 / %x0A / %x0D )`.
    @inline(__always) mutating func skipWhitespace() {
        while index < end {
            let byte = buffer[index]
            guard byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 else { return }
            index += 1
        }
    }

    func error(_ reason: String) -> JSONSyntaxError {
        JSONSyntaxError(offset: index, reason: reason)
    }

    func unexpected(_ expectation: String) -> JSONSyntaxError {
        guard index < end else { return error("unexpected end of input, \(expectation)") }
        let byte = buffer[index]
        let shown = byte >= 0x20 && byte < 0x7F ? "'\(Character(Unicode.Scalar(byte)))'" : "byte \(byte)"
        return error("unexpected \(shown), \(expectation)")
    }

    /// Consumes `byte` or throws.
    @inline(__always) mutating func expect(_ byte: UInt8, _ expectation: @autoclosure () -> String)
        throws(JSONSyntaxError)
    {
        guard index < end, buffer[index] == byte else { throw unexpected(expectation()) }
        index += 1
    }

    /// Scans a string starting at its opening quote; validates escapes, control bytes and UTF-8.
    mutating func scanString() throws(JSONSyntaxError) -> JSONStringToken {
        try expect(UInt8(ascii: "\""), "expected '\"'")
        let start = index
        var hasEscapes = false
        var nonASCII = false
        index = skipPlainASCII(from: index)
        while true {
            guard index < end else { throw error("unterminated string") }
            let byte = buffer[index]
            if byte == UInt8(ascii: "\"") { break }
            if byte == UInt8(ascii: "\\") {
                hasEscapes = true
                index += 1
                guard index < end else { throw error("unterminated string") }
                switch buffer[index] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                    UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    index += 1
                case UInt8(ascii: "u"):
                    index += 1
                    try scanUnicodeEscapeTail()
                default:
                    throw error("invalid escape sequence")
                }
                continue
            }
            // RFC 8259 §7: "All Unicode characters may be placed within the quotation marks,
            // except for the characters that MUST be escaped: quotation mark, reverse solidus,
            // and the control characters (U+0000 through U+001F)."
            if byte < 0x20 { throw error("unescaped control character in string") }
            if byte >= 0x80 { nonASCII = true }
            index += 1
        }
        let token = JSONStringToken(start: start, end: index, hasEscapes: hasEscapes)
        index += 1
        if nonASCII, !UTF8Validator.isValid(UnsafeRawBufferPointer(rebasing: buffer[start..<token.end])) {
            throw JSONSyntaxError(offset: start, reason: "string is not valid UTF-8")
        }
        return token
    }

    /// Skips 8-byte words that hold only printable ASCII other than `"` and `\\` (SWAR).
    ///
    /// Used once at the start of each string: with the number fast paths it decodes 3.0 M
    /// objects/s against 2.8 M without (100k ~100-byte NDJSON objects, release, best of 20);
    /// re-running it after every byte is slower (2.7 M), since most strings here are shorter than
    /// 8 bytes. `syndicast-microbench 3 decode` measures the decoder that uses it.
    @inline(__always)
    func skipPlainASCII(from start: Int) -> Int {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        var position = start
        while position + 8 <= end {
            let word = UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: position, as: UInt64.self))
            let quote = word ^ (ones &* 0x22)
            let backslash = word ^ (ones &* 0x5C)
            // A byte is flagged when it is zero (in `quote`/`backslash`), below 0x20, or ≥ 0x80.
            let special =
                ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | (word &- ones &* 0x20) | word
            guard special & highs == 0 else { return position }
            position += 8
        }
        return position
    }

    /// Reads the 4 hex digits after `\u` (the cursor is after the `u`), and for a high surrogate
    /// the `\uDC00`–`\uDFFF` that must follow it (RFC 8259 §7). Returns the scalar value.
    @discardableResult
    mutating func scanUnicodeEscapeTail() throws(JSONSyntaxError) -> UInt32 {
        let first = try hexQuad()
        if first >= 0xDC00, first <= 0xDFFF { throw error("unpaired low surrogate in \\u escape") }
        guard first >= 0xD800, first <= 0xDBFF else { return first }
        guard index + 1 < end, buffer[index] == UInt8(ascii: "\\"), buffer[index + 1] == UInt8(ascii: "u")
        else { throw error("unpaired high surrogate in \\u escape") }
        index += 2
        let second = try hexQuad()
        guard second >= 0xDC00, second <= 0xDFFF else { throw error("unpaired high surrogate in \\u escape") }
        return 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
    }

    private mutating func hexQuad() throws(JSONSyntaxError) -> UInt32 {
        guard index + 4 <= end else { throw error("truncated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = buffer[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte &- UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte &- UInt8(ascii: "a") &+ 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte &- UInt8(ascii: "A") &+ 10
            default: throw error("invalid hex digit in \\u escape")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    /// Decodes an already-validated string token into ``scratch`` as UTF-8 bytes.
    mutating func unescape(_ token: JSONStringToken) {
        scratch.removeAll(keepingCapacity: true)
        var position = token.start
        while position < token.end {
            let byte = buffer[position]
            guard byte == UInt8(ascii: "\\"), position + 1 < token.end else {
                scratch.append(byte)
                position += 1
                continue
            }
            let escaped = buffer[position + 1]
            position += 2
            switch escaped {
            case UInt8(ascii: "b"): scratch.append(0x08)
            case UInt8(ascii: "f"): scratch.append(0x0C)
            case UInt8(ascii: "n"): scratch.append(0x0A)
            case UInt8(ascii: "r"): scratch.append(0x0D)
            case UInt8(ascii: "t"): scratch.append(0x09)
            case UInt8(ascii: "u"):
                var scalarValue = hexValue(at: position)
                position += 4
                if scalarValue >= 0xD800, scalarValue <= 0xDBFF, position + 6 <= token.end {
                    let low = hexValue(at: position + 2)
                    scalarValue = 0x10000 + ((scalarValue - 0xD800) << 10) + (low &- 0xDC00)
                    position += 6
                }
                let scalar = Unicode.Scalar(scalarValue) ?? "\u{FFFD}"
                if let encoded = UTF8.encode(scalar) { scratch.append(contentsOf: encoded) }
            default: scratch.append(escaped)  // '"', '\\' and '/' stand for themselves.
            }
        }
    }

    private func hexValue(at position: Int) -> UInt32 {
        var value: UInt32 = 0
        for offset in 0..<4 where position + offset < end {
            let byte = buffer[position + offset]
            let digit = byte <= UInt8(ascii: "9") ? byte &- 0x30 : (byte | 0x20) &- UInt8(ascii: "a") &+ 10
            value = value << 4 | UInt32(digit & 0x0F)
        }
        return value
    }

    /// Scans a number per RFC 8259 §6 and returns its byte range.
    mutating func scanNumber() throws(JSONSyntaxError) -> Range<Int> {
        let start = index
        if index < end, buffer[index] == UInt8(ascii: "-") { index += 1 }
        guard index < end, buffer[index] &- 0x30 < 10 else { throw unexpected("expected a digit") }
        if buffer[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            while index < end, buffer[index] &- 0x30 < 10 { index += 1 }
        }
        if index < end, buffer[index] == UInt8(ascii: ".") {
            index += 1
            guard index < end, buffer[index] &- 0x30 < 10 else { throw unexpected("expected a fraction digit") }
            while index < end, buffer[index] &- 0x30 < 10 { index += 1 }
        }
        if index < end, buffer[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            if index < end, buffer[index] == UInt8(ascii: "+") || buffer[index] == UInt8(ascii: "-") { index += 1 }
            guard index < end, buffer[index] &- 0x30 < 10 else { throw unexpected("expected an exponent digit") }
            while index < end, buffer[index] &- 0x30 < 10 { index += 1 }
        }
        return start..<index
    }

    /// Consumes `literal` (`true`, `false`, `null`).
    mutating func scanLiteral(_ literal: StaticString) throws(JSONSyntaxError) {
        let count = literal.utf8CodeUnitCount
        guard index + count <= end else { throw unexpected("expected a JSON value") }
        let base = literal.utf8Start
        for offset in 0..<count where buffer[index + offset] != base[offset] {
            throw unexpected("expected a JSON value")
        }
        index += count
    }

    /// Validates and skips any JSON value; `depth` is the nesting level of the value's container.
    mutating func skipValue(depth: Int) throws(JSONSyntaxError) {
        skipWhitespace()
        guard let byte = peek() else { throw unexpected("expected a JSON value") }
        switch byte {
        case UInt8(ascii: "\""): _ = try scanString()
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            guard depth < maximumDepth else { throw error("nesting deeper than \(maximumDepth) levels") }
            let isObject = byte == UInt8(ascii: "{")
            let closing = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
            index += 1
            skipWhitespace()
            if peek() == closing {
                index += 1
                return
            }
            while true {
                if isObject {
                    skipWhitespace()
                    _ = try scanString()
                    skipWhitespace()
                    try expect(UInt8(ascii: ":"), "expected ':'")
                }
                try skipValue(depth: depth + 1)
                skipWhitespace()
                guard let next = peek() else { throw unexpected("expected ',' or a closing bracket") }
                index += 1
                if next == closing { return }
                guard next == UInt8(ascii: ",") else {
                    index -= 1
                    throw unexpected("expected ',' or a closing bracket")
                }
            }
        case UInt8(ascii: "t"): try scanLiteral("true")
        case UInt8(ascii: "f"): try scanLiteral("false")
        case UInt8(ascii: "n"): try scanLiteral("null")
        default: _ = try scanNumber()
        }
    }
}
