import Monitor
import PropertyBased
import SeededRandom
import Testing

/// The naive reference for task 1: recompute everything from scratch and sort. Ids are keyed and
/// ordered by their UTF-8 bytes (docs/DOMAIN-RULES.md).
struct RankingsReference {
    var totals: [IdentifierBytes: MoneyTotal] = [:]
    var syndicates: [IdentifierBytes: Set<IdentifierBytes>] = [:]

    mutating func apply(_ transaction: Transaction) {
        let investor = IdentifierBytes(transaction.investorId)
        totals[investor, default: .zero].add(transaction.amount)
        syndicates[investor, default: []].insert(IdentifierBytes(transaction.syndicateId))
    }

    func top(_ limit: Int) -> [RankingEntry] {
        let sorted = totals.keys.sorted { left, right in
            let leftCount = syndicates[left]?.count ?? 0
            let rightCount = syndicates[right]?.count ?? 0
            if leftCount != rightCount { return leftCount > rightCount }
            if totals[left] != totals[right] { return totals[left] ?? .zero > totals[right] ?? .zero }
            return left < right
        }
        return sorted.prefix(limit).enumerated().map { offset, investor in
            RankingEntry(
                rank: offset + 1, investorId: investor.string, syndicateCount: syndicates[investor]?.count ?? 0,
                totalInvested: totals[investor] ?? .zero)
        }
    }
}

@Suite("Rankings (seed task 1, DESIGN.md §4)")
struct RankingsTests {
    @Test("seed bug 1: investors that share a syndicate count are all kept")
    func sharedCounts() throws {
        var rankings = Rankings(topCount: 5)
        for investor in ["a", "b", "c"] {
            try rankings.apply(transaction(investor, "s1", cents: 100))
            try rankings.apply(transaction(investor, "s2", cents: 100))
        }
        #expect(rankings.top(5).map(\.investorId) == ["a", "b", "c"])
        #expect(rankings.top(5).map(\.syndicateCount) == [2, 2, 2])
    }

    @Test("seed bug 2: top 5 are the highest, not the lowest")
    func highestFirst() throws {
        var rankings = Rankings(topCount: 5)
        for count in 1...8 {
            for syndicate in 0..<count { try rankings.apply(transaction("i\(count)", "s\(syndicate)", cents: 1)) }
        }
        #expect(rankings.top(5).map(\.investorId) == ["i8", "i7", "i6", "i5", "i4"])
        #expect(rankings.top(5).map(\.rank) == [1, 2, 3, 4, 5])
    }

    @Test("order: distinct syndicates desc, then total desc, then investor id asc")
    func ordering() throws {
        var rankings = Rankings(topCount: 5)
        try rankings.apply(transaction("b", "s1", cents: 500))
        try rankings.apply(transaction("a", "s1", cents: 500))
        try rankings.apply(transaction("c", "s1", cents: 900))
        try rankings.apply(transaction("d", "s1", cents: 1))
        try rankings.apply(transaction("d", "s2", cents: 1))
        try rankings.apply(transaction("c", "s1", cents: 1))  // same syndicate again: count stays 1
        #expect(rankings.top(5).map(\.investorId) == ["d", "c", "a", "b"])
        #expect(rankings.top(5).first?.totalInvested == MoneyTotal(cents: 2))
        #expect(rankings.top(5)[1].syndicateCount == 1)
    }

    @Test("apply reports a change only when the top K changes")
    func changeDetection() throws {
        var rankings = Rankings(topCount: 1)
        #expect(try rankings.apply(transaction("a", "s1", cents: 100)) == true)
        #expect(try rankings.apply(transaction("b", "s1", cents: 50)) == false)  // below the leader
        #expect(try rankings.apply(transaction("a", "s1", cents: 1)) == true)  // leader's total changed
        #expect(try rankings.apply(transaction("b", "s2", cents: 1)) == true)  // b overtakes
        #expect(rankings.top(1).map(\.investorId) == ["b"])
    }

    @Test("totals past Int64.max stay exact and ordered; non-positive amounts change nothing")
    func largeTotals() throws {
        var rankings = Rankings()
        try rankings.apply(transaction("a", "s1", cents: Int64.max - 1))
        try rankings.apply(transaction("a", "s1", cents: 2))
        #expect(rankings.investor("a")?.totalInvested.description == "92233720368547758.08")
        #expect(throws: RankingsError.nonPositiveAmount) { try rankings.apply(transaction("a", "s2", cents: 0)) }
        #expect(rankings.investor("a")?.syndicateCount == 1)
        #expect(rankings.investor("a")?.transactionCount == 2)
        // b passes a only once its total is larger in 128 bits.
        for _ in 0..<3 { try rankings.apply(transaction("b", "s1", cents: Int64.max / 2)) }
        #expect(rankings.top(2).map(\.investorId) == ["b", "a"])
        #expect(rankings.top(2).map(\.totalInvested.description) == ["138350580552821637.09", "92233720368547758.08"])
    }

    @Test("limits larger than K select from all investors")
    func largeLimit() throws {
        var rankings = Rankings(topCount: 2)
        var reference = RankingsReference()
        var random = SeededGenerator(seed: 11)
        for _ in 0..<2000 {
            let next = transaction(
                "i\(Int.random(in: 0..<300, using: &random))", "s\(Int.random(in: 0..<20, using: &random))",
                cents: Int64.random(in: 1...1000, using: &random))
            try rankings.apply(next)
            reference.apply(next)
        }
        for limit in [0, 1, 2, 3, 10, 299, 300, 1000] {
            #expect(rankings.top(limit) == reference.top(limit), "limit \(limit)")
        }
        #expect(rankings.investor("i1")?.syndicateIds == rankings.investor("i1")?.syndicateIds.sorted())
    }

    @Test(
        "random streams with many ties match the reference model after every transaction",
        arguments: [1, 2, 5])
    func propertyAgainstReference(topCount: Int) async {
        let step = zip(Gen.int(in: 0...7), Gen.int(in: 0...4), Gen.int(in: 1...3))
        await propertyCheck(count: 200, input: step.array(of: 0...120)) { steps in
            var rankings = Rankings(topCount: topCount)
            var reference = RankingsReference()
            for (investor, syndicate, cents) in steps {
                let next = transaction("i\(investor)", "s\(syndicate)", cents: Int64(cents))
                let before = reference.top(topCount)
                reference.apply(next)
                let changed = try? rankings.apply(next)
                #expect(changed == (before != reference.top(topCount)))
                #expect(rankings.top(topCount) == reference.top(topCount))
            }
            #expect(rankings.top(8) == reference.top(8))
            #expect(rankings.investorCount == reference.totals.count)
        }
    }
}
