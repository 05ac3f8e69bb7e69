import Monitor
import SeededRandom
import Testing

@Suite("RFC 3339 §5.6 Internet date/time format")
struct RFC3339TimestampTests {
    static func parse(_ text: String) -> Result<Int64, TimestampParseError> {
        var copy = text
        return copy.withUTF8 { RFC3339Timestamp.parse(UnsafeRawBufferPointer($0), from: 0, to: $0.count) }
    }

    @Test(
        "valid date-times",
        arguments: [
            ("1970-01-01T00:00:00Z", Int64(0)), ("2026-11-27T10:00:00Z", 1_795_773_600_000),
            ("2026-11-27T10:00:00.123Z", 1_795_773_600_123), ("2026-11-27T10:00:00.1Z", 1_795_773_600_100),
            ("2026-11-27T10:00:00.12Z", 1_795_773_600_120), ("2026-11-27T10:00:00.123999Z", 1_795_773_600_123),
            ("2026-11-27T12:00:00+02:00", 1_795_773_600_000), ("2026-11-27T05:30:00-04:30", 1_795_773_600_000),
            ("2026-11-27t10:00:00z", 1_795_773_600_000), ("2026-11-27 10:00:00Z", 1_795_773_600_000),
            ("2024-02-29T00:00:00Z", 1_709_164_800_000), ("1969-12-31T23:59:59.999Z", -1),
            ("2000-03-01T00:00:00+00:00", 951_868_800_000), ("0000-01-01T00:00:00Z", RFC3339Timestamp.minimumMilliseconds),
            ("9999-12-31T23:59:59.999Z", RFC3339Timestamp.maximumMilliseconds),
        ])
    func valid(text: String, milliseconds: Int64) {
        #expect(Self.parse(text) == .success(milliseconds))
    }

    @Test(
        "invalid date-times",
        arguments: [
            ("", TimestampParseError.syntax), ("2026-11-27", .syntax), ("2026-11-27T10:00:00", .syntax),
            ("2026-11-27T10:00Z", .syntax), ("26-11-27T10:00:00Z", .syntax), ("2026-11-27T10:00:00.Z", .syntax),
            ("2026-11-27T10:00:00+0200", .syntax), ("2026-11-27X10:00:00Z", .syntax), ("2026-11-27T10:00:00ZZ", .syntax),
            ("1764237600000", .syntax), ("2026-11-27T10:00:00+02", .syntax), ("２026-11-27T10:00:00Z", .syntax),
            ("2026-13-01T00:00:00Z", .outOfRange), ("2026-00-01T00:00:00Z", .outOfRange),
            ("2026-04-31T00:00:00Z", .outOfRange), ("2025-02-29T00:00:00Z", .outOfRange),
            ("1900-02-29T00:00:00Z", .outOfRange), ("2026-11-27T24:00:00Z", .outOfRange),
            ("2026-11-27T10:60:00Z", .outOfRange), ("2026-11-27T10:00:00+24:00", .outOfRange),
            ("2026-11-27T10:00:00+02:60", .outOfRange), ("2016-12-31T23:59:60Z", .leapSecond),
            ("0000-01-01T00:00:00+00:01", .outOfRange), ("9999-12-31T23:59:59-00:01", .outOfRange),
        ])
    func invalid(text: String, error: TimestampParseError) {
        #expect(Self.parse(text) == .failure(error))
    }

    @Test("formatting is UTC with milliseconds")
    func formatting() {
        #expect(RFC3339Timestamp.format(1_795_773_600_123) == "2026-11-27T10:00:00.123Z")
        #expect(RFC3339Timestamp.format(0) == "1970-01-01T00:00:00.000Z")
        #expect(RFC3339Timestamp.format(-1) == "1969-12-31T23:59:59.999Z")
        #expect(RFC3339Timestamp.format(Int64.max) == "9999-12-31T23:59:59.999Z")
        #expect(RFC3339Timestamp.format(Int64.min) == "0000-01-01T00:00:00.000Z")
    }

    @Test("format then parse is the identity across the whole range")
    func roundTrip() {
        var random = SeededGenerator(seed: 3339)
        for _ in 0..<5000 {
            let milliseconds = Int64.random(
                in: RFC3339Timestamp.minimumMilliseconds...RFC3339Timestamp.maximumMilliseconds, using: &random)
            #expect(Self.parse(RFC3339Timestamp.format(milliseconds)) == .success(milliseconds))
        }
    }
}
