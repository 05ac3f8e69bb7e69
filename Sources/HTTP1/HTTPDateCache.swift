import Basics

/// IMF-fixdate strings for the `Date` header (RFC 9110 §5.6.7), cached per second.
///
///     IMF-fixdate = day-name "," SP date1 SP time-of-day SP GMT
///     ; fixed length/zone/capitalization subset of the format, e.g. Sun, 06 Nov 1994 08:49:37 GMT
public struct HTTPDateCache: Sendable {
    var cachedSecond = Int.min
    var cachedString = ""
    /// How many times a string was computed rather than served from the cache.
    public private(set) var computations = 0

    /// Creates an empty cache.
    public init() {}

    /// The IMF-fixdate for `epochSeconds`, recomputed only when the second changes.
    public mutating func string(epochSeconds: Int) -> String {
        if epochSeconds != cachedSecond {
            cachedSecond = epochSeconds
            cachedString = Self.format(epochSeconds: epochSeconds)
            computations += 1
        }
        return cachedString
    }

    /// Formats `epochSeconds` (seconds since 1970-01-01T00:00:00Z) as an IMF-fixdate.
    public static func format(epochSeconds: Int) -> String {
        let (wholeDays, wholeSecondOfDay) = CivilDate.floorDivide(Int64(epochSeconds), 86_400)
        let days = Int(wholeDays)
        let secondOfDay = Int(wholeSecondOfDay)
        let date = CivilDate(daysSinceEpoch: days)
        let weekday = CivilDate.weekday(daysSinceEpoch: days)
        let dayNames = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        var bytes: [UInt8] = []
        bytes.reserveCapacity(29)
        bytes.append(contentsOf: dayNames[weekday].utf8)
        bytes.append(contentsOf: ", ".utf8)
        appendPadded(date.day, width: 2, to: &bytes)
        bytes.append(ASCII.space)
        bytes.append(contentsOf: monthNames[date.month - 1].utf8)
        bytes.append(ASCII.space)
        appendPadded(date.year, width: 4, to: &bytes)
        bytes.append(ASCII.space)
        appendPadded(secondOfDay / 3600, width: 2, to: &bytes)
        bytes.append(ASCII.colon)
        appendPadded(secondOfDay / 60 % 60, width: 2, to: &bytes)
        bytes.append(ASCII.colon)
        appendPadded(secondOfDay % 60, width: 2, to: &bytes)
        bytes.append(contentsOf: " GMT".utf8)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `value` in decimal, left-padded with zeros to `width` digits.
    static func appendPadded(_ value: Int, width: Int, to bytes: inout [UInt8]) {
        let digits = Array(String(value).utf8)
        if digits.count < width { bytes.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: width - digits.count)) }
        bytes.append(contentsOf: digits)
    }
}
