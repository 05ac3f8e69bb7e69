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

/// Builds JSON text (RFC 8259) into a byte array; strings follow ``JSONEscaping``'s one rule.
///
/// The methods are `@inlinable` because every event's JSON is written through them from other
/// modules (the `basics` and `broker` micro-benchmarks measure that path).
public struct JSONWriter: Sendable {
    /// The text written so far.
    public var bytes: [UInt8]

    /// Creates an empty writer with room for `capacity` bytes.
    @inlinable
    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// The text written so far, as a string.
    public var string: String { String(decoding: bytes, as: UTF8.self) }

    /// Appends ASCII punctuation or a literal, unescaped: `{`, `"key":`, `null`.
    @inlinable @inline(__always)
    public mutating func appendRaw(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Appends a quoted, escaped string (``JSONEscaping/appendQuoted(_:to:)``).
    @inlinable
    public mutating func appendString(_ value: String) {
        JSONEscaping.appendQuoted(value, to: &bytes)
    }

    /// Appends a string, or `null` for `nil`.
    @inlinable
    public mutating func appendString(_ value: String?) {
        if let value { appendString(value) } else { appendRaw("null") }
    }

    /// Appends an integer.
    @inlinable
    public mutating func appendInteger(_ value: Int64) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        Self.appendDecimal(value.magnitude, to: &bytes)
    }

    /// Appends an integer.
    @inlinable
    public mutating func appendInteger(_ value: Int) {
        appendInteger(Int64(value))
    }

    /// Appends `true` or `false`.
    @inlinable
    public mutating func appendBool(_ value: Bool) {
        if value { appendRaw("true") } else { appendRaw("false") }
    }

    /// Appends a JSON array of values.
    @inlinable
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
    @inlinable
    public mutating func append(_ value: some JSONWritable) {
        value.appendJSON(to: &self)
    }

    /// Appends the decimal digits of `value` to `bytes`: counts the digits, grows the array once,
    /// then fills it from the right (no temporary buffer).
    @inlinable
    public static func appendDecimal(_ value: UInt64, to bytes: inout [UInt8]) {
        if value < 10 {
            bytes.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value))
            return
        }
        var count = 0
        var probe = value
        while probe > 0 {
            count &+= 1
            probe /= 10
        }
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: count))
        var position = start &+ count
        var remaining = value
        while remaining > 0 {
            position &-= 1
            bytes[position] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: remaining % 10)
            remaining /= 10
        }
    }
}
