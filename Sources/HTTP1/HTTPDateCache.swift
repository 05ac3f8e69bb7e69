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
        let secondsPerDay = 86_400
        // Floor division so that instants before 1970 land on the right day.
        var days = epochSeconds / secondsPerDay
        var secondOfDay = epochSeconds % secondsPerDay
        if secondOfDay < 0 {
            secondOfDay += secondsPerDay
            days -= 1
        }
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        let weekday = ((days % 7) + 11) % 7  // 1970-01-01 was a Thursday; 0 is Sunday.
        let dayNames = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        var bytes: [UInt8] = []
        bytes.reserveCapacity(29)
        bytes.append(contentsOf: dayNames[weekday].utf8)
        bytes.append(contentsOf: ", ".utf8)
        appendPadded(day, width: 2, to: &bytes)
        bytes.append(ASCII.space)
        bytes.append(contentsOf: monthNames[month - 1].utf8)
        bytes.append(ASCII.space)
        appendPadded(year, width: 4, to: &bytes)
        bytes.append(ASCII.space)
        appendPadded(secondOfDay / 3600, width: 2, to: &bytes)
        bytes.append(ASCII.colon)
        appendPadded(secondOfDay / 60 % 60, width: 2, to: &bytes)
        bytes.append(ASCII.colon)
        appendPadded(secondOfDay % 60, width: 2, to: &bytes)
        bytes.append(contentsOf: " GMT".utf8)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Year, month (1–12) and day (1–31) of a day count since 1970-01-01 in the proleptic
    /// Gregorian calendar (Howard Hinnant's `civil_from_days`).
    static func civilDate(daysSinceEpoch: Int) -> (year: Int, month: Int, day: Int) {
        let shifted = daysSinceEpoch + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    /// Appends `value` in decimal, left-padded with zeros to `width` digits.
    static func appendPadded(_ value: Int, width: Int, to bytes: inout [UInt8]) {
        let digits = Array(String(value).utf8)
        if digits.count < width { bytes.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: width - digits.count)) }
        bytes.append(contentsOf: digits)
    }
}
