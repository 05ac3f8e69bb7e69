import Monitor
import PropertyBased
import Testing

@Suite("Monitor: rules and rankings combined")
struct MonitorTests {
    static let configuration = MonitorConfiguration(
        amountThreshold: Money(cents: 1_000_000), spikeWindowSeconds: 3600, spikeThreshold: 2, topK: 2,
        recentAlertCapacity: 3)

    static func alerts(_ events: [MonitorEvent]) -> [Alert] {
        events.compactMap { if case .alert(let alert) = $0 { return alert } else { return nil } }
    }

    @Test("amount rule is strictly greater than the threshold")
    func amountRule() throws {
        var monitor = TransactionMonitor(configuration: Self.configuration)
        #expect(Self.alerts(monitor.apply(transaction("i1", "s1", cents: 1_000_000, at: 0, id: "t1"))).isEmpty)
        let raised = Self.alerts(monitor.apply(transaction("i7", "s2", cents: 2_500_000, at: 5, id: "t9")))
        #expect(
            raised == [
                Alert(
                    id: "a-1", syndicateId: "s2", investorId: "i7", transactionId: "t9",
                    details: .amountThreshold(amount: Money(cents: 2_500_000), threshold: Money(cents: 1_000_000)),
                    at: 5)
            ])
        #expect(raised.first?.rule == .amountThreshold)
    }

    @Test("events come in order: amount alert, spike alert, rankings; ids count up")
    func eventOrder() throws {
        var monitor = TransactionMonitor(configuration: Self.configuration)
        _ = monitor.apply(transaction("i1", "s1", cents: 100, at: 1_000))
        _ = monitor.apply(transaction("i1", "s1", cents: 100, at: 2_000))
        let events = monitor.apply(transaction("i2", "s1", cents: 2_000_000, at: 3_000, id: "big"))
        #expect(events.count == 3)
        guard events.count == 3, case .alert(let amount) = events[0], case .alert(let spike) = events[1],
            case .rankingsChanged(let top) = events[2]
        else {
            Issue.record("unexpected events \(events)")
            return
        }
        #expect(amount.id == "a-1")
        #expect(spike.id == "a-2")
        #expect(spike.details == .syndicateSpike(count: 3, windowSeconds: 3600, threshold: 2))
        #expect(spike.transactionId == "big")
        #expect(spike.at == 3_000)
        #expect(top.map(\.investorId) == ["i2", "i1"])
        #expect(monitor.counts.alerts == 2)
    }

    @Test("rankings event only when the top K changes")
    func rankingsOnlyOnChange() {
        var monitor = TransactionMonitor(configuration: MonitorConfiguration(topK: 1))
        #expect(monitor.apply(transaction("a", "s1", cents: 500)).count == 1)
        #expect(monitor.apply(transaction("b", "s1", cents: 100)).isEmpty)
        #expect(
            monitor.apply(transaction("a", "s1", cents: 1)) == [
                .rankingsChanged([RankingEntry(rank: 1, investorId: "a", syndicateCount: 1, totalInvested: MoneyTotal(cents: 501))])
            ])
    }

    @Test("spike state is visible per syndicate and clears after the window")
    func syndicateQuery() throws {
        var monitor = TransactionMonitor(configuration: Self.configuration)
        for second in 0..<3 { _ = monitor.apply(transaction("i", "s1", cents: 100, at: Int64(second) * 1000)) }
        let spiking = try #require(monitor.syndicate("s1"))
        #expect(spiking.isSpiking)
        #expect(spiking.windowCount == 3)
        #expect(spiking.totalInvested == MoneyTotal(cents: 300))
        _ = monitor.apply(transaction("i", "s1", cents: 100, at: 3_600_000 + 2_000))
        #expect(monitor.syndicate("s1")?.isSpiking == false)
        #expect(monitor.syndicate("s1")?.windowCount == 1)
        #expect(monitor.syndicate("s1")?.transactionCount == 4)
        #expect(monitor.syndicate("nope") == nil)
    }

    @Test("out-of-order transactions count for rankings even when the spike rule ignores them")
    func outOfOrderStillRanks() {
        var monitor = TransactionMonitor(configuration: Self.configuration)
        _ = monitor.apply(transaction("i", "s1", cents: 100, at: 10_000_000))
        _ = monitor.apply(transaction("i", "s2", cents: 100, at: 0))
        #expect(monitor.investor("i")?.syndicateCount == 2)
        #expect(monitor.investor("i")?.totalInvested == MoneyTotal(cents: 200))
        #expect(monitor.investor("i")?.rank == 1)
    }

    @Test("recent alerts: newest first, bounded")
    func recentAlerts() {
        var monitor = TransactionMonitor(configuration: Self.configuration)
        for index in 1...5 { _ = monitor.apply(transaction("i", "s\(index)", cents: 2_000_000, at: Int64(index))) }
        #expect(monitor.recentAlerts(limit: 10).map(\.id) == ["a-5", "a-4", "a-3"])
        #expect(monitor.recentAlerts(limit: 2).map(\.id) == ["a-5", "a-4"])
        #expect(monitor.recentAlerts(limit: 0).isEmpty)
    }

    @Test("totals past Int64.max stay exact and never refuse a later transaction")
    func totalsPastInt64() throws {
        var monitor = TransactionMonitor(configuration: Self.configuration)
        _ = monitor.apply(transaction("a", "s1", cents: Int64.max))
        let batch = [transaction("b", "s2", cents: 5), transaction("c", "s1", cents: 1), transaction("a", "s1", cents: Int64.max)]
        #expect(monitor.validate(TransactionBatch(batch)).isEmpty)
        _ = monitor.apply(TransactionBatch(batch), alerts: { _ in })
        // Int64.max = 9223372036854775807 cents; s1 holds Int64.max · 2 + 1 = 2^64 − 1 cents.
        #expect(monitor.syndicate("s1")?.totalInvested.description == "184467440737095516.15")
        #expect(monitor.investor("a")?.totalInvested == MoneyTotal(high: 0, low: UInt64(Int64.max) * 2))
        _ = monitor.apply(transaction("c", "s1", cents: 1))
        #expect(monitor.syndicate("s1")?.totalInvested == MoneyTotal(high: 1, low: 0))
        #expect(monitor.syndicate("s1")?.totalInvested.description == "184467440737095516.16")
        #expect(monitor.counts.rejected == 0)
        #expect(monitor.counts.transactions == 5)
        #expect(monitor.leaderboard.first?.investorId == "a")
    }

    @Test("non-positive amounts: validate reports them, applying them changes nothing")
    func nonPositiveAmounts() throws {
        var monitor = TransactionMonitor(configuration: Self.configuration)
        _ = monitor.apply(transaction("a", "s1", cents: 10))
        let batch = [transaction("b", "s2", cents: 5), transaction("c", "s1", cents: 0), transaction("c", "s1", cents: -1)]
        #expect(monitor.validate(TransactionBatch(batch)).map(\.index) == [1, 2])
        #expect(monitor.validate(TransactionBatch(batch)).first?.reason == "must be greater than 0")
        let before = monitor.counts
        #expect(monitor.apply(TransactionBatch(Array(batch[1...])), alerts: { _ in Issue.record("alert") }) == false)
        #expect(monitor.counts.rejected == before.rejected + 2)
        #expect(monitor.counts.transactions == before.transactions)
        #expect(monitor.investor("c") == nil)
        #expect(monitor.apply(transaction("a", "s9", cents: 0)).isEmpty)
        #expect(monitor.counts.rejected == 3)
        #expect(monitor.investor("a")?.syndicateCount == 1)
        #expect(monitor.syndicate("s9") == nil)
    }

    /// Random streams: investor, syndicate, cents, and the time step (negative: out of order).
    static let randomSteps = zip(
        Gen.int(in: 0...5), Gen.int(in: 0...3), Gen.int(in: 1...3_000_000), Gen.int(in: -3_000...5_000)
    ).array(of: 1...100)

    static func stream(_ steps: [(Int, Int, Int, Int)]) -> [Transaction] {
        var clock: Int64 = 0
        return steps.enumerated().map { index, step in
            clock += Int64(step.3)
            return transaction("i\(step.0)", "s\(step.1)", cents: Int64(step.2), at: clock, id: "t\(index)")
        }
    }

    @Test("determinism: the same stream gives the same events and state")
    func determinism() async {
        await propertyCheck(count: 50, input: Self.randomSteps) { steps in
            let stream = Self.stream(steps)
            var first = TransactionMonitor(configuration: Self.configuration)
            var second = TransactionMonitor(configuration: Self.configuration)
            let firstEvents = stream.flatMap { first.apply($0) }
            let secondEvents = stream.flatMap { second.apply($0) }
            #expect(firstEvents == secondEvents)
            #expect(first.counts == second.counts)
            #expect(first.leaderboard == second.leaderboard)
            #expect(first.counts.transactions == stream.count)
            let alertIds = Self.alerts(firstEvents).map(\.id)
            #expect(alertIds == (0..<alertIds.count).map { "a-\($0 + 1)" })
        }
    }

    @Test("a batch applied in place gives each transaction's alerts after its own marker, as one by one")
    func batchInPlace() async {
        await propertyCheck(count: 50, input: Self.randomSteps) { steps in
            let stream = Self.stream(steps)
            var single = TransactionMonitor(configuration: Self.configuration)
            var expected: [String] = []
            var expectedChanged = false
            for (index, transaction) in stream.enumerated() {
                expected.append("tx \(index)")
                if single.apply(TransactionBatch([transaction]), alerts: { expected.append("\($0.id) \($0.transactionId ?? "")") }) {
                    expectedChanged = true
                }
            }
            var batched = TransactionMonitor(configuration: Self.configuration)
            var seen: [String] = []
            let changed = batched.apply(
                TransactionBatch(stream), before: { seen.append("tx \($0)") },
                alerts: { seen.append("\($0.id) \($0.transactionId ?? "")") })
            #expect(seen == expected)
            #expect(changed == expectedChanged)
            #expect(batched.counts == single.counts)
            #expect(batched.leaderboard == single.leaderboard)
        }
    }

    @Test("a syndicate whose only transaction was refused stays unknown until one is accepted")
    func refusedTransactionLeavesNoSyndicate() {
        var monitor = TransactionMonitor(configuration: Self.configuration)
        _ = monitor.apply(transaction("whale", "s1", cents: 100))
        // A non-positive amount is refused before anything, its syndicate id included, is recorded.
        #expect(monitor.apply(transaction("whale", "s-new", cents: 0)).isEmpty)
        #expect(monitor.counts.rejected == 1)
        #expect(monitor.syndicate("s-new") == nil)
        #expect(monitor.counts.syndicates == 1)
        #expect(monitor.investor("whale")?.syndicateIds == ["s1"])
        // Another investor's transaction there is accepted: the syndicate appears, counted once.
        _ = monitor.apply(transaction("minnow", "s-new", cents: 100))
        #expect(monitor.syndicate("s-new")?.transactionCount == 1)
        #expect(monitor.syndicate("s-new")?.totalInvested == MoneyTotal(cents: 100))
        #expect(monitor.counts.syndicates == 2)
        #expect(monitor.investor("minnow")?.syndicateIds == ["s-new"])
    }
}
