/// An exact amount of money in integer cents; never a floating-point value.
///
/// One transaction's amount (at most `--max-amount`, see ``TransactionDecoder/Limits``); sums of
/// amounts are ``MoneyTotal``s, which cannot overflow. Addition is offered only in the
/// overflow-reporting form.
public struct Money: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The amount in cents (hundredths of the currency unit).
    public let cents: Int64

    /// Creates an amount from a number of cents.
    public init(cents: Int64) {
        self.cents = cents
    }

    /// Zero cents.
    public static let zero = Money(cents: 0)

    /// Adds two amounts, returning `nil` instead of trapping when the sum does not fit in `Int64`.
    public func adding(_ other: Money) -> Money? {
        let (sum, overflow) = cents.addingReportingOverflow(other.cents)
        return overflow ? nil : Money(cents: sum)
    }

    /// Orders amounts by their cents.
    public static func < (lhs: Money, rhs: Money) -> Bool {
        lhs.cents < rhs.cents
    }

    /// The amount as a decimal string with exactly two fraction digits, e.g. `"12500.00"`.
    public var description: String {
        String(decoding: formattedBytes(), as: UTF8.self)
    }

    /// The ASCII bytes of ``description`` (no allocation beyond the returned array).
    public func formattedBytes() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        appendFormatted(to: &bytes)
        return bytes
    }

    /// Appends the decimal text (`-`? digits `.` two digits) to `bytes`.
    public func appendFormatted(to bytes: inout [UInt8]) {
        // Work on the magnitude as UInt64 so that Int64.min formats without trapping.
        let negative = cents < 0
        let magnitude = cents.magnitude
        let whole = magnitude / 100
        let fraction = magnitude % 100
        if negative { bytes.append(UInt8(ascii: "-")) }
        appendDecimal(whole, to: &bytes)
        bytes.append(UInt8(ascii: "."))
        bytes.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: fraction / 10))
        bytes.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: fraction % 10))
    }
}

/// Appends the decimal digits of `value` to `bytes`.
@inline(__always)
func appendDecimal(_ value: UInt64, to bytes: inout [UInt8]) {
    if value < 10 {
        bytes.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value))
        return
    }
    // Count the digits, grow the array once, then fill it from the right: no temporary buffer.
    var count = 0
    var probe = value
    while probe > 0 {
        count += 1
        probe /= 10
    }
    let start = bytes.count
    bytes.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: count))
    var position = start + count
    var remaining = value
    while remaining > 0 {
        position -= 1
        bytes[position] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: remaining % 10)
        remaining /= 10
    }
}

/// Appends the decimal digits of a signed `value` to `bytes`.
@inline(__always)
func appendDecimal(_ value: Int64, to bytes: inout [UInt8]) {
    if value < 0 { bytes.append(UInt8(ascii: "-")) }
    appendDecimal(value.magnitude, to: &bytes)
}
