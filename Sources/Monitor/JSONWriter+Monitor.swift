import Basics

extension JSONWriter {
    /// Appends money as a quoted decimal string, e.g. `"12500.00"` (strings keep cents exact in JavaScript).
    @inline(__always)
    public mutating func appendMoney(_ value: Money) {
        bytes.append(UInt8(ascii: "\""))
        value.appendFormatted(to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    /// Appends epoch milliseconds as a quoted RFC 3339 UTC string with milliseconds.
    @inline(__always)
    public mutating func appendTimestamp(_ milliseconds: Int64) {
        bytes.append(UInt8(ascii: "\""))
        RFC3339Timestamp.appendFormatted(milliseconds, to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }
}
