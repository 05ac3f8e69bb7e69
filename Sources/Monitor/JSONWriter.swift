/// A value that writes itself as JSON into a ``JSONWriter`` (hand-written, no reflection).
public protocol JSONWritable {
    /// Appends this value's JSON text.
    func appendJSON(to writer: inout JSONWriter)
}

extension JSONWritable {
    /// This value's JSON text as UTF-8 bytes.
    public var jsonBytes: [UInt8] {
        var writer = JSONWriter()
        appendJSON(to: &writer)
        return writer.bytes
    }

    /// This value's JSON text.
    public var jsonString: String { String(decoding: jsonBytes, as: UTF8.self) }
}

/// Builds JSON text (RFC 8259) into a byte array, escaping strings correctly.
public struct JSONWriter: Sendable {
    /// The text written so far.
    public var bytes: [UInt8]

    /// Creates an empty writer with room for `capacity` bytes.
    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// The text written so far, as a string.
    public var string: String { String(decoding: bytes, as: UTF8.self) }

    /// Appends ASCII punctuation or a literal, unescaped: `{`, `"key":`, `null`.
    @inline(__always)
    public mutating func appendRaw(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Appends a quoted, escaped string.
    ///
    /// RFC 8259 §7: quotation mark, reverse solidus and the control characters U+0000–U+001F
    /// must be escaped; the two-character forms are used where they exist, `\u00XX` otherwise.
    public mutating func appendString(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        var copy = value
        copy.withUTF8 { utf8 in
            var runStart = 0
            for (index, byte) in utf8.enumerated() where byte < 0x20 || byte == 0x22 || byte == 0x5C {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
                runStart = index + 1
                bytes.append(UInt8(ascii: "\\"))
                switch byte {
                case 0x22: bytes.append(0x22)
                case 0x5C: bytes.append(0x5C)
                case 0x08: bytes.append(UInt8(ascii: "b"))
                case 0x0C: bytes.append(UInt8(ascii: "f"))
                case 0x0A: bytes.append(UInt8(ascii: "n"))
                case 0x0D: bytes.append(UInt8(ascii: "r"))
                case 0x09: bytes.append(UInt8(ascii: "t"))
                default:
                    let hex: StaticString = "0123456789abcdef"
                    appendRaw("u00")
                    bytes.append(hex.utf8Start[Int(byte >> 4)])
                    bytes.append(hex.utf8Start[Int(byte & 0x0F)])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Appends a string, or `null` for `nil`.
    public mutating func appendString(_ value: String?) {
        if let value { appendString(value) } else { appendRaw("null") }
    }

    /// Appends an integer.
    public mutating func appendInteger(_ value: Int64) {
        appendDecimal(value, to: &bytes)
    }

    /// Appends an integer.
    public mutating func appendInteger(_ value: Int) {
        appendDecimal(Int64(value), to: &bytes)
    }

    /// Appends `true` or `false`.
    public mutating func appendBool(_ value: Bool) {
        if value { appendRaw("true") } else { appendRaw("false") }
    }

    /// Appends money as a quoted decimal string, e.g. `"12500.00"` (strings keep cents exact in JavaScript).
    public mutating func appendMoney(_ value: Money) {
        bytes.append(UInt8(ascii: "\""))
        value.appendFormatted(to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    /// Appends epoch milliseconds as a quoted RFC 3339 UTC string with milliseconds.
    public mutating func appendTimestamp(_ milliseconds: Int64) {
        bytes.append(UInt8(ascii: "\""))
        RFC3339Timestamp.appendFormatted(milliseconds, to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    /// Appends a JSON array of values.
    public mutating func appendArray<Values: Sequence>(_ values: Values) where Values.Element: JSONWritable {
        bytes.append(UInt8(ascii: "["))
        var first = true
        for value in values {
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            value.appendJSON(to: &self)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// Appends any value that writes itself.
    public mutating func append(_ value: some JSONWritable) {
        value.appendJSON(to: &self)
    }
}
