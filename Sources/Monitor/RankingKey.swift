/// An investor's sort key in the rankings: distinct syndicate count, total, identifier.
struct RankingKey: Sendable, Hashable {
    var investorId: String
    /// The investor's ordinal in ``Rankings``' table: one per distinct id (its UTF-8 bytes), so
    /// "same investor" is one integer comparison.
    var investor: Int32
    var syndicateCount: Int
    var total: MoneyTotal

    /// DESIGN.md §4: "Top K ordered by distinct syndicate count descending, then total descending,
    /// then investor id ascending." Ids are ordered by their UTF-8 bytes (code point order) and
    /// distinct ids have distinct bytes (docs/DOMAIN-RULES.md), so this is a strict total order.
    @inline(__always)
    func ranksBefore(_ other: RankingKey) -> Bool {
        if syndicateCount != other.syndicateCount { return syndicateCount > other.syndicateCount }
        if total != other.total { return total > other.total }
        return investorId.utf8Precedes(other.investorId)
    }

    func entry(rank: Int) -> RankingEntry {
        RankingEntry(rank: rank, investorId: investorId, syndicateCount: syndicateCount, totalInvested: total)
    }
}
