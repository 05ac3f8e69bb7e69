import Basics

/// RFC 3339 date-time text to and from epoch milliseconds (UTC), without Foundation.
///
/// RFC 3339 §5.6: `date-time = full-date "T" full-time`, `full-time = partial-time time-offset`,
/// `time-secfrac = "." 1*DIGIT`, `time-offset = "Z" / time-numoffset`. Per the NOTE in §5.6, "T"
/// and "Z" may be lower case and "T" may be a space. Fractions beyond milliseconds are truncated
/// toward the past. A leap second (`:60`) is rejected: epoch milliseconds cannot name it.
public enum RFC3339Timestamp {
    /// Earliest accepted instant: 0000-01-01T00:00:00.000Z.
    public static let minimumMilliseconds: Int64 = -62_167_219_200_000
    /// Latest accepted instant: 9999-12-31T23:59:59.999Z.
    public static let maximumMilliseconds: Int64 = 253_402_300_799_999

    /// Parses `buffer[start..<end]`; returns epoch milliseconds or a reason for the error detail.
    public static func parse(
        _ buffer: UnsafeRawBufferPointer, from start: Int, to end: Int
    ) -> Result<Int64, TimestampParseError> {
        guard start >= 0, end <= buffer.count, end - start >= 20 else { return .failure(.syntax) }
        var index = start
        @inline(__always) func digits(_ count: Int) -> Int? {
            guard index + count <= end else { return nil }
            var value = 0
            for offset in 0..<count {
                let digit = buffer[index + offset] &- 0x30
                guard digit < 10 else { return nil }
                value = value * 10 + Int(digit)
            }
            index += count
            return value
        }
        @inline(__always) func expect(_ character: UInt8) -> Bool {
            guard index < end, buffer[index] == character else { return false }
            index += 1
            return true
        }
        guard let year = digits(4), expect(UInt8(ascii: "-")), let month = digits(2),
            expect(UInt8(ascii: "-")), let day = digits(2)
        else { return .failure(.syntax) }
        guard index < end else { return .failure(.syntax) }
        let separator = buffer[index]
        guard separator == UInt8(ascii: "T") || separator == UInt8(ascii: "t") || separator == 0x20
        else { return .failure(.syntax) }
        index += 1
        guard let hour = digits(2), expect(UInt8(ascii: ":")), let minute = digits(2),
            expect(UInt8(ascii: ":")), let second = digits(2)
        else { return .failure(.syntax) }
        var millisecond = 0
        if index < end, buffer[index] == UInt8(ascii: ".") {
            index += 1
            let fractionStart = index
            while index < end, buffer[index] &- 0x30 < 10 {
                if index - fractionStart < 3 { millisecond = millisecond * 10 + Int(buffer[index] &- 0x30) }
                index += 1
            }
            let fractionCount = index - fractionStart
            guard fractionCount > 0 else { return .failure(.syntax) }
            if fractionCount == 1 { millisecond *= 100 } else if fractionCount == 2 { millisecond *= 10 }
        }
        guard index < end else { return .failure(.syntax) }
        var offsetMinutes = 0
        let zone = buffer[index]
        if zone == UInt8(ascii: "Z") || zone == UInt8(ascii: "z") {
            index += 1
        } else if zone == UInt8(ascii: "+") || zone == UInt8(ascii: "-") {
            index += 1
            guard let offsetHour = digits(2), expect(UInt8(ascii: ":")), let offsetMinute = digits(2)
            else { return .failure(.syntax) }
            guard offsetHour <= 23, offsetMinute <= 59 else { return .failure(.outOfRange) }
            offsetMinutes = (offsetHour * 60 + offsetMinute) * (zone == UInt8(ascii: "-") ? -1 : 1)
        } else {
            return .failure(.syntax)
        }
        guard index == end else { return .failure(.syntax) }
        guard month >= 1, month <= 12, day >= 1, day <= CivilDate.daysInMonth(year: year, month: month),
            hour <= 23, minute <= 59
        else { return .failure(.outOfRange) }
        guard second <= 59 else { return .failure(second == 60 ? .leapSecond : .outOfRange) }
        let days = Int64(CivilDate(year: year, month: month, day: day).daysSinceEpoch)
        let seconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offsetMinutes * 60)
        let milliseconds = seconds * 1000 + Int64(millisecond)
        guard milliseconds >= minimumMilliseconds, milliseconds <= maximumMilliseconds else {
            return .failure(.outOfRange)
        }
        return .success(milliseconds)
    }

    /// Formats epoch milliseconds as `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC, always three fraction digits).
    public static func format(_ milliseconds: Int64) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        appendFormatted(milliseconds, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the text of ``format(_:)`` to `bytes`. Values outside years 0000–9999 are clamped.
    public static func appendFormatted(_ milliseconds: Int64, to bytes: inout [UInt8]) {
        let clamped = min(max(milliseconds, minimumMilliseconds), maximumMilliseconds)
        let (seconds, millisecond) = CivilDate.floorDivide(clamped, 1000)
        let (days, secondOfDay) = CivilDate.floorDivide(seconds, 86_400)
        let date = CivilDate(daysSinceEpoch: Int(days))
        let hour = Int(secondOfDay / 3600)
        let minute = Int(secondOfDay % 3600 / 60)
        let second = Int(secondOfDay % 60)
        @inline(__always) func append(_ value: Int, width: Int) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            var remaining = value
            while divisor > 0 {
                bytes.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: remaining / divisor))
                remaining %= divisor
                divisor /= 10
            }
        }
        append(date.year, width: 4)
        bytes.append(UInt8(ascii: "-"))
        append(date.month, width: 2)
        bytes.append(UInt8(ascii: "-"))
        append(date.day, width: 2)
        bytes.append(UInt8(ascii: "T"))
        append(hour, width: 2)
        bytes.append(UInt8(ascii: ":"))
        append(minute, width: 2)
        bytes.append(UInt8(ascii: ":"))
        append(second, width: 2)
        bytes.append(UInt8(ascii: "."))
        append(Int(millisecond), width: 3)
        bytes.append(UInt8(ascii: "Z"))
    }
}

/// Why a timestamp string was rejected.
public enum TimestampParseError: Error, Sendable, Hashable {
    /// Not RFC 3339 `date-time` syntax.
    case syntax
    /// A field is out of range (month 13, 31 April, offset hour 24, before year 0000, …).
    case outOfRange
    /// Second 60: a leap second cannot be expressed in epoch milliseconds.
    case leapSecond

    /// A short human-readable reason, used in error details.
    public var reason: String {
        switch self {
        case .syntax: return "must be an RFC 3339 date-time such as 2026-11-27T10:00:00.123Z or epoch milliseconds"
        case .outOfRange: return "is not a valid date and time"
        case .leapSecond: return "leap seconds are not supported"
        }
    }
}
