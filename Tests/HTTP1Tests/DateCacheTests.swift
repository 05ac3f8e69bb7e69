import Testing

@testable import HTTP1

@Suite("RFC 9110 §5.6.7 IMF-fixdate")
struct DateCacheTests {
    @Test(
        "known instants",
        arguments: [
            (784_111_777, "Sun, 06 Nov 1994 08:49:37 GMT"),
            (0, "Thu, 01 Jan 1970 00:00:00 GMT"),
            (951_782_400, "Tue, 29 Feb 2000 00:00:00 GMT"),
            (1_709_164_799, "Wed, 28 Feb 2024 23:59:59 GMT"),
            (1_709_251_199, "Thu, 29 Feb 2024 23:59:59 GMT"),
            (1_735_689_599, "Tue, 31 Dec 2024 23:59:59 GMT"),
            (4_102_444_800, "Fri, 01 Jan 2100 00:00:00 GMT"),
            (-1, "Wed, 31 Dec 1969 23:59:59 GMT"),
            (253_402_300_799, "Fri, 31 Dec 9999 23:59:59 GMT"),
        ])
    func format(epochSeconds: Int, expected: String) {
        #expect(HTTPDateCache.format(epochSeconds: epochSeconds) == expected)
        var cache = HTTPDateCache()
        #expect(cache.string(epochSeconds: epochSeconds) == expected)
    }

    @Test("the string is recomputed only when the second changes")
    func caching() {
        var cache = HTTPDateCache()
        #expect(cache.string(epochSeconds: 784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(cache.string(epochSeconds: 784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(cache.computations == 1)
        #expect(cache.string(epochSeconds: 784_111_778) == "Sun, 06 Nov 1994 08:49:38 GMT")
        #expect(cache.computations == 2)
        _ = cache.string(epochSeconds: 784_111_778)
        #expect(cache.computations == 2)
    }

    @Test("every day of a leap-year span formats with the right weekday sequence")
    func weekdaySequence() {
        let names = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]
        for day in stride(from: 19_000, to: 19_800, by: 1) {
            let formatted = HTTPDateCache.format(epochSeconds: day * 86_400 + 43_200)
            #expect(formatted.hasPrefix(names[day % 7] + ", "))
            #expect(formatted.utf8.count == 29)
        }
    }
}
