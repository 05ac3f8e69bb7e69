/// Why a text could not be read as a transaction amount.
public enum MoneyParseError: Error, Sendable, Hashable {
    /// The text is not a number in JSON number syntax.
    case notANumber
    /// The value is zero or negative; amounts must be greater than 0.
    case notPositive
    /// The value is not a whole number of cents.
    case tooManyFractionDigits
    /// The value in cents does not fit in `Int64`.
    case tooLarge

    /// A short human-readable reason, used in error details.
    public var reason: String {
        switch self {
        case .notANumber: return "must be a decimal number such as 12 or 12.50"
        case .notPositive: return "must be greater than 0"
        case .tooManyFractionDigits: return "must have at most 2 fraction digits"
        case .tooLarge: return "is too large"
        }
    }
}

extension Money {
    /// Parses an amount written in JSON number syntax, e.g. `"12"`, `"12.5"`, `"12.50"`.
    ///
    /// The same grammar serves JSON numbers and decimal strings (RFC 8259 §6:
    /// `[ minus ] int [ frac ] [ exp ]`, no leading zeros, no `+`, no whitespace).
    /// The value must be greater than 0 and a whole number of cents. The rule is about the
    /// value, not the spelling: `"12.500"` and `"1.25e1"` are accepted (12.50), `"12.505"` and
    /// `"1e-3"` are rejected. Exponents are evaluated exactly with integers, never through Double.
    public init(parsing text: String) throws(MoneyParseError) {
        var copy = text
        let result = copy.withUTF8 { utf8 in
            Money.parse(UnsafeRawBufferPointer(utf8), from: 0, to: utf8.count)
        }
        switch result {
        case .success(let money): self = money
        case .failure(let error): throw error
        }
    }

    /// Parses the bytes `buffer[start..<end]` as an amount; see ``init(parsing:)``.
    public static func parse(
        _ buffer: UnsafeRawBufferPointer, from start: Int, to end: Int
    ) -> Result<Money, MoneyParseError> {
        guard start >= 0, end <= buffer.count, start < end else { return .failure(.notANumber) }
        @inline(__always) func byte(_ index: Int) -> UInt8 { buffer[index] }
        @inline(__always) func isDigit(_ value: UInt8) -> Bool { value &- 0x30 < 10 }
        if let cents = parsePlain(buffer, from: start, to: end) { return .success(Money(cents: cents)) }

        var index = start
        let negative = byte(index) == UInt8(ascii: "-")
        if negative { index += 1 }
        // int = zero / ( digit1-9 *DIGIT )
        let integerStart = index
        guard index < end, isDigit(byte(index)) else { return .failure(.notANumber) }
        if byte(index) == UInt8(ascii: "0") {
            index += 1
        } else {
            while index < end, isDigit(byte(index)) { index += 1 }
        }
        let integerEnd = index
        // frac = decimal-point 1*DIGIT
        var fractionStart = index
        var fractionEnd = index
        if index < end, byte(index) == UInt8(ascii: ".") {
            index += 1
            fractionStart = index
            while index < end, isDigit(byte(index)) { index += 1 }
            fractionEnd = index
            guard fractionEnd > fractionStart else { return .failure(.notANumber) }
        }
        // exp = e [ minus / plus ] 1*DIGIT; saturated, so huge exponents cost nothing.
        var exponent = 0
        if index < end, byte(index) | 0x20 == UInt8(ascii: "e") {
            index += 1
            var exponentNegative = false
            if index < end, byte(index) == UInt8(ascii: "-") || byte(index) == UInt8(ascii: "+") {
                exponentNegative = byte(index) == UInt8(ascii: "-")
                index += 1
            }
            let digitsStart = index
            while index < end, isDigit(byte(index)) {
                if exponent < 1_000_000 { exponent = exponent * 10 + Int(byte(index) &- 0x30) }
                index += 1
            }
            guard index > digitsStart else { return .failure(.notANumber) }
            if exponentNegative { exponent = -exponent }
        }
        guard index == end else { return .failure(.notANumber) }

        // The digits, integer part then fraction, read as one sequence.
        let integerCount = integerEnd - integerStart
        let fractionCount = fractionEnd - fractionStart
        let digitCount = integerCount + fractionCount
        @inline(__always) func digit(_ position: Int) -> UInt8 {
            position < integerCount
                ? byte(integerStart + position) &- 0x30
                : byte(fractionStart + position - integerCount) &- 0x30
        }
        var first = 0
        while first < digitCount, digit(first) == 0 { first += 1 }
        guard first < digitCount, !negative else { return .failure(.notPositive) }
        var last = digitCount - 1
        while digit(last) == 0 { last -= 1 }
        // value = significand × 10^scale; cents = significand × 10^(scale + 2).
        let centsScale = exponent - fractionCount + (digitCount - 1 - last) + 2
        guard centsScale >= 0 else { return .failure(.tooManyFractionDigits) }
        let significantCount = last - first + 1
        guard significantCount + centsScale <= 19 else { return .failure(.tooLarge) }
        var cents: Int64 = 0
        for position in first...last {
            let (shifted, overflowShift) = cents.multipliedReportingOverflow(by: 10)
            let (sum, overflowAdd) = shifted.addingReportingOverflow(Int64(digit(position)))
            guard !overflowShift, !overflowAdd else { return .failure(.tooLarge) }
            cents = sum
        }
        var remainingScale = centsScale
        while remainingScale > 0 {
            let (shifted, overflow) = cents.multipliedReportingOverflow(by: 10)
            guard !overflow else { return .failure(.tooLarge) }
            cents = shifted
            remainingScale -= 1
        }
        return .success(Money(cents: cents))
    }

    /// Fast path for the usual spelling `[1-9][0-9]{0,15}(.[0-9]{1,2})?` with a non-zero value;
    /// `nil` sends everything else (zero, exponents, errors) to the general parser.
    @inline(__always)
    private static func parsePlain(_ buffer: UnsafeRawBufferPointer, from start: Int, to end: Int) -> Int64? {
        var index = start
        var whole: Int64 = 0
        while index < end, index - start < 16 {
            let digit = buffer[index] &- 0x30
            guard digit < 10 else { break }
            if index == start, digit == 0 { return nil }
            whole = whole * 10 + Int64(digit)
            index += 1
        }
        guard index > start else { return nil }
        var cents = whole * 100
        if index < end {
            guard buffer[index] == UInt8(ascii: "."), end - index == 2 || end - index == 3 else { return nil }
            let tens = buffer[index + 1] &- 0x30
            guard tens < 10 else { return nil }
            cents += Int64(tens) * 10
            if end - index == 3 {
                let units = buffer[index + 2] &- 0x30
                guard units < 10 else { return nil }
                cents += Int64(units)
            }
        }
        return cents > 0 ? cents : nil
    }
}
