/// One row of the investor rankings (task 1), as published in `rankings` events and `/api/rankings`.
///
/// JSON (DESIGN.md §3): `{"rank":1,"investorId":"i1","syndicateCount":3,"totalInvested":"12500.00"}`.
public struct RankingEntry: Sendable, Hashable {
    /// 1-based position in the ranking.
    public var rank: Int
    /// The investor.
    public var investorId: String
    /// How many distinct syndicates the investor has put money into.
    public var syndicateCount: Int
    /// The investor's total across all transactions.
    public var totalInvested: MoneyTotal

    /// Creates an entry.
    public init(rank: Int, investorId: String, syndicateCount: Int, totalInvested: MoneyTotal) {
        self.rank = rank
        self.investorId = investorId
        self.syndicateCount = syndicateCount
        self.totalInvested = totalInvested
    }
}

/// What is known about one investor (`GET /api/investors/{id}`).
public struct InvestorSummary: Sendable, Hashable {
    /// The investor.
    public var investorId: String
    /// Sum of all the investor's transactions.
    public var totalInvested: MoneyTotal
    /// The distinct syndicates invested in, sorted by their identifiers.
    public var syndicateIds: [String]
    /// How many transactions the investor made.
    public var transactionCount: Int
    /// The investor's position when within the maintained top K, otherwise `nil`.
    public var rank: Int?

    /// Creates a summary.
    public init(investorId: String, totalInvested: MoneyTotal, syndicateIds: [String], transactionCount: Int, rank: Int?) {
        self.investorId = investorId
        self.totalInvested = totalInvested
        self.syndicateIds = syndicateIds
        self.transactionCount = transactionCount
        self.rank = rank
    }

    /// Number of distinct syndicates.
    public var syndicateCount: Int { syndicateIds.count }
}
