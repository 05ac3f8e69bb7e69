import Foundation
import SeededRandom
import Testing

@testable import Basics

@Suite("Proleptic Gregorian dates (days_from_civil / civil_from_days)")
struct CivilDateTests {
    @Test(
        "known dates",
        arguments: [
            (0, 1970, 1, 1, 4), (-1, 1969, 12, 31, 3), (11_016, 2000, 2, 29, 2), (20_784, 2026, 11, 27, 5),
            (-719_528, 0, 1, 1, 6), (2_932_896, 9999, 12, 31, 5), (-25_567, 1900, 1, 1, 1), (784_111, 4116, 10, 28, 3),
        ] as [(Int, Int, Int, Int, Int)])
    func knownDates(days: Int, year: Int, month: Int, day: Int, weekday: Int) {
        let date = CivilDate(daysSinceEpoch: days)
        #expect(date == CivilDate(year: year, month: month, day: day))
        #expect(date.daysSinceEpoch == days)
        #expect(CivilDate.weekday(daysSinceEpoch: days) == weekday)
    }

    @Test("round trip and agreement with Foundation's Gregorian calendar over random days")
    func agreesWithFoundation() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        var generator = SeededGenerator(seed: 2026)
        for _ in 0..<2_000 {
            // Years 1600–2400: Foundation's calendar is Julian before 1582.
            let days = Int.random(in: -135_140...157_000, using: &generator)
            let date = CivilDate(daysSinceEpoch: days)
            #expect(date.daysSinceEpoch == days)
            let components = calendar.dateComponents(
                [.year, .month, .day, .weekday], from: Date(timeIntervalSince1970: Double(days) * 86_400))
            #expect(components.year == date.year && components.month == date.month && components.day == date.day)
            #expect(components.weekday.map { $0 - 1 } == CivilDate.weekday(daysSinceEpoch: days))
        }
    }

    @Test("consecutive days advance by one calendar day, across months, leap days and eras")
    func consecutiveDays() {
        var previous = CivilDate(daysSinceEpoch: -800_000)
        for days in -799_999...(-790_000) {
            let date = CivilDate(daysSinceEpoch: days)
            if date.day == 1 {
                #expect(previous.day == CivilDate.daysInMonth(year: previous.year, month: previous.month))
            } else {
                #expect(date.day == previous.day + 1 && date.month == previous.month && date.year == previous.year)
            }
            previous = date
        }
    }

    @Test("leap years and floor division")
    func leapYearsAndFloorDivision() {
        #expect(CivilDate.isLeapYear(2000) && CivilDate.isLeapYear(2024) && CivilDate.isLeapYear(0))
        #expect(!CivilDate.isLeapYear(1900) && !CivilDate.isLeapYear(2026))
        #expect(CivilDate.daysInMonth(year: 2024, month: 2) == 29 && CivilDate.daysInMonth(year: 2100, month: 2) == 28)
        #expect(CivilDate.floorDivide(-1, 1000) == (-1, 999))
        #expect(CivilDate.floorDivide(-1000, 1000) == (-1, 0))
        #expect(CivilDate.floorDivide(86_399, 86_400) == (0, 86_399))
    }
}
