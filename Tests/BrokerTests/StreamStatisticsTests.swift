import Testing

@testable import Broker

/// The `stats` rate: transactions per second between ticks, live ones only.
@Suite("StreamStatistics: the transactions-per-second rate")
struct StreamStatisticsTests {
    @Test("a burst before the first tick shows in the first rate; replayed transactions do not")
    func firstTickCountsLiveTransactions() {
        var statistics = StreamStatistics()
        statistics.transactions = 1_000
        statistics.replayed = 1_000
        statistics.transactions += 4
        statistics.tick(now: 5_000)
        #expect(statistics.transactionsPerSecond == 4)
        statistics.transactions += 6
        statistics.tick(now: 6_000)
        #expect(statistics.transactionsPerSecond == 6)
        statistics.tick(now: 7_000)
        #expect(statistics.transactionsPerSecond == 0)
    }

    @Test("the rate is per second of the interval between ticks, rounded to the nearest")
    func rateOverTheInterval() {
        var statistics = StreamStatistics()
        statistics.tick(now: 1_000)
        statistics.transactions += 3_000
        statistics.tick(now: 3_000)
        #expect(statistics.transactionsPerSecond == 1_500)
        statistics.transactions += 1
        statistics.tick(now: 4_002)  // one transaction in a tick that fired 2 ms late
        #expect(statistics.transactionsPerSecond == 1)
    }
}
