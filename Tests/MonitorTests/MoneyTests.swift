import Monitor
import SeededRandom
import Testing

@Suite("Money: exact cents")
struct MoneyTests {
    @Test(
        "accepted amounts become exact cents",
        arguments: [
            ("12", Int64(1200)), ("12.5", 1250), ("12.50", 1250), ("0.01", 1), ("0.1", 10), ("12500", 1_250_000),
            ("12.500", 1250), ("1.25e1", 1250), ("1E2", 10000), ("1e+2", 10000), ("15e-1", 150), ("1.5e-1", 15),
            ("0.00001e3", 1), ("1234567890123456", 123_456_789_012_345_600),
            ("12345678901234567", 1_234_567_890_123_456_700), ("9.99", 999), ("0.5", 50), ("92233720368547758.07", Int64.max),
            ("100000000000000000e-2", 100_000_000_000_000_000),
        ])
    func accepted(text: String, cents: Int64) throws {
        #expect(try Money(parsing: text).cents == cents)
    }

    @Test(
        "rejected amounts name the reason",
        arguments: [
            ("", MoneyParseError.notANumber), ("abc", .notANumber), ("+1", .notANumber), ("01", .notANumber),
            (".5", .notANumber), ("5.", .notANumber), (" 5", .notANumber), ("5 ", .notANumber), ("1e", .notANumber),
            ("1e+", .notANumber), ("0x10", .notANumber), ("1,5", .notANumber), ("NaN", .notANumber),
            ("Infinity", .notANumber), ("--1", .notANumber), ("1.2.3", .notANumber),
            ("12.5x", .notANumber), ("12.", .notANumber), ("1.234", .tooManyFractionDigits), ("00.5", .notANumber),
            ("0", .notPositive), ("0.00", .notPositive), ("-1", .notPositive), ("-0", .notPositive),
            ("0e5", .notPositive), ("-0.001", .notPositive),
            ("12.505", .tooManyFractionDigits), ("0.001", .tooManyFractionDigits), ("1e-3", .tooManyFractionDigits),
            ("1e-1000000000000", .tooManyFractionDigits),
            ("92233720368547758.08", .tooLarge), ("1e17", .tooLarge), ("1e999999999999", .tooLarge),
            (String(repeating: "9", count: 5000), .tooLarge),
        ])
    func rejected(text: String, error: MoneyParseError) {
        #expect(throws: error) { try Money(parsing: text) }
    }

    @Test("formatting always has two fraction digits")
    func formatting() {
        #expect(Money(cents: 1_250_000).description == "12500.00")
        #expect(Money(cents: 1).description == "0.01")
        #expect(Money(cents: 10).description == "0.10")
        #expect(Money(cents: 0).description == "0.00")
        #expect(Money(cents: -1205).description == "-12.05")
        #expect(Money(cents: Int64.max).description == "92233720368547758.07")
        #expect(Money(cents: Int64.min).description == "-92233720368547758.08")
    }

    @Test("formatting round-trips through parsing for random amounts")
    func roundTrip() throws {
        var random = SeededGenerator(seed: 7)
        for _ in 0..<2000 {
            let cents = Int64.random(in: 1...Int64.max, using: &random) >> Int64.random(in: 0...62, using: &random)
            let money = Money(cents: max(1, cents))
            #expect(try Money(parsing: money.description) == money)
        }
    }

    @Test("addition reports overflow instead of trapping")
    func addition() {
        #expect(Money(cents: 5).adding(Money(cents: 7)) == Money(cents: 12))
        #expect(Money(cents: Int64.max).adding(Money(cents: 1)) == nil)
        #expect(Money(cents: Int64.max - 1).adding(Money(cents: 1)) == Money(cents: Int64.max))
    }
}
