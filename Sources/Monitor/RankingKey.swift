/// An investor's sort key in the rankings: distinct syndicate count, total, identifier.
struct RankingKey: Sendable, Hashable {
    var investorId: String
    var syndicateCount: Int
    var totalCents: Int64

    /// DESIGN.md §4: "Top K ordered by distinct syndicate count descending, then total descending,
    /// then investor id ascending." Investor ids are unique, so this is a strict total order.
    @inline(__always)
    func ranksBefore(_ other: RankingKey) -> Bool {
        if syndicateCount != other.syndicateCount { return syndicateCount > other.syndicateCount }
        if totalCents != other.totalCents { return totalCents > other.totalCents }
        return investorId < other.investorId
    }

    func entry(rank: Int) -> RankingEntry {
        RankingEntry(
            rank: rank, investorId: investorId, syndicateCount: syndicateCount, totalInvested: Money(cents: totalCents))
    }
}
