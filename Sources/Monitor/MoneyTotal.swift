import Basics

/// A total of positive amounts in integer cents, 128 bits wide: investor and syndicate totals.
///
/// A single amount is at most `Int64.max` cents (below 2^63) and a total sums at most `Int.max`
/// transactions (below 2^63), so every total stays below 2^126: adding an amount never wraps,
/// and no total can refuse a transaction (DESIGN.md §6 "Totals are 128-bit").
///
/// Two 64-bit words rather than `UInt128`: the standard library's type needs macOS 15 while the
/// package supports macOS 14, and its 16-byte alignment would pad the states that hold a total.
public struct MoneyTotal: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The upper 64 bits of the number of cents.
    public private(set) var high: UInt64
    /// The lower 64 bits of the number of cents.
    public private(set) var low: UInt64

    /// Creates a total of `cents`.
    public init(cents: UInt64) {
        high = 0
        low = cents
    }

    /// Creates a total of `high` × 2^64 + `low` cents.
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Zero cents.
    public static let zero = MoneyTotal(cents: 0)

    /// Adds an amount; a non-positive one adds nothing (``TransactionMonitor`` and ``Rankings`` never pass one).
    @inline(__always)
    public mutating func add(_ amount: Money) {
        let (sum, carry) = low.addingReportingOverflow(UInt64(clamping: amount.cents))
        low = sum
        // Cannot wrap: see the type's documentation.
        high &+= carry ? 1 : 0
    }

    /// This total plus `amount` (see ``add(_:)``).
    public func adding(_ amount: Money) -> MoneyTotal {
        var copy = self
        copy.add(amount)
        return copy
    }

    /// Orders totals by their cents.
    @inline(__always)
    public static func < (lhs: MoneyTotal, rhs: MoneyTotal) -> Bool {
        lhs.high != rhs.high ? lhs.high < rhs.high : lhs.low < rhs.low
    }

    /// The total as a decimal string with exactly two fraction digits, e.g. `"12500.00"`.
    public var description: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(48)
        appendFormatted(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the decimal text (digits `.` two digits) to `bytes`, exact for all 128 bits.
    public func appendFormatted(to bytes: inout [UInt8]) {
        let (whole, fraction) = dividedWithRemainder(by: 100)
        if whole.high == 0 {
            appendDecimal(whole.low, to: &bytes)
        } else {
            // 2^128 / 100 / 10^19 < 2^64: the leading digits fit one word, the rest are 19 digits.
            let (leading, trailing) = whole.dividedWithRemainder(by: 10_000_000_000_000_000_000)
            appendDecimal(leading.low, to: &bytes)
            let start = bytes.count
            appendDecimal(trailing, to: &bytes)
            let padding = 19 - (bytes.count - start)
            bytes.insert(contentsOf: repeatElement(UInt8(ascii: "0"), count: padding), at: start)
        }
        bytes.append(UInt8(ascii: "."))
        bytes.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: fraction / 10))
        bytes.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: fraction % 10))
    }

    /// Long division by a non-zero `divisor`: the quotient and the remainder.
    func dividedWithRemainder(by divisor: UInt64) -> (quotient: MoneyTotal, remainder: UInt64) {
        let (highQuotient, highRemainder) = high.quotientAndRemainder(dividingBy: divisor)
        // `highRemainder < divisor`, so the full-width quotient fits one word.
        let (lowQuotient, remainder) = divisor.dividingFullWidth((high: highRemainder, low: low))
        return (MoneyTotal(high: highQuotient, low: lowQuotient), remainder)
    }
}

extension JSONWriter {
    /// Appends a total as a quoted decimal string, e.g. `"12500.00"`.
    public mutating func appendMoney(_ value: MoneyTotal) {
        bytes.append(UInt8(ascii: "\""))
        value.appendFormatted(to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }
}
