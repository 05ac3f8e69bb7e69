/// Why ``Rankings`` refused a transaction; state is unchanged when this is thrown.
public enum RankingsError: Error, Sendable, Hashable {
    /// The amount is zero or negative; totals may only grow. (Totals are 128-bit: they cannot
    /// overflow, see ``MoneyTotal``.)
    case nonPositiveAmount
}

/// Investor rankings (seed task 1), maintained incrementally.
///
/// For each investor: the total invested and the set of distinct syndicates. The top K are ordered
/// by distinct syndicate count descending, then total descending, then investor id ascending
/// (DESIGN.md §4). The seed's two bugs are avoided by construction: entries are keyed by investor,
/// never by count (investors sharing a count are all kept), and the order is descending (the top
/// K are the highest, not the lowest).
///
/// Counts and totals only grow, so an investor outside the top K can enter it only when one of
/// its own transactions arrives, and members only move up: ``apply(_:)`` costs O(K) comparisons
/// at worst and O(1) for the common outsider that stays outside. Investors are told apart by
/// their ids' UTF-8 bytes (``IdentifierTable``), never by `String` equality.
public struct Rankings: Sendable {
    struct InvestorState: Sendable {
        var total = MoneyTotal.zero
        var syndicates = SyndicateSet()
        var transactionCount = 0
    }

    /// K: how many leaders are maintained incrementally (and published in `rankings` events).
    public let topCount: Int
    /// Investor ids by ordinal (``IdentifierTable``); `investorStates` by the same ordinal.
    var investorIndex = IdentifierTable()
    var investorStates: [InvestorState] = []
    /// Syndicate ids by ordinal: each investor stores small integers. ``TransactionMonitor`` keeps its
    /// syndicate states by the same ordinals.
    var syndicateIndex = IdentifierTable()
    /// The top K keys, best first.
    var leaders: [RankingKey] = []

    /// Creates empty rankings that maintain the top `topCount` (at least 1) investors.
    public init(topCount: Int = 5) {
        self.topCount = max(1, topCount)
        leaders.reserveCapacity(self.topCount + 1)
    }

    /// Number of investors seen.
    public var investorCount: Int { investorStates.count }

    /// The state of `investorId`, if it has one.
    func state(ofInvestor investor: KeyedIdentifier) -> InvestorState? {
        investorIndex.ordinal(of: investor).map { investorStates[Int($0)] }
    }

    /// Adds one transaction; returns whether the top K list changed (ranks, ids, counts or totals).
    ///
    /// Throws before changing any state if the amount is not positive.
    @discardableResult
    public mutating func apply(_ transaction: Transaction) throws(RankingsError) -> Bool {
        guard transaction.amount.cents > 0 else { throw .nonPositiveAmount }
        return apply(
            investor: transaction.investor, amount: transaction.amount, syndicate: syndicateOrdinal(of: transaction.syndicate))
    }

    /// ``apply(_:)`` given the fields it reads, for a syndicate that already has its ordinal
    /// (``TransactionMonitor`` reads the fields in place and looks the ordinal up once for both). The
    /// caller has checked that `amount` is positive.
    mutating func apply(investor identifier: KeyedIdentifier, amount: Money, syndicate: Int32) -> Bool {
        let investor = investorIndex.insert(identifier)
        if Int(investor) == investorStates.count { investorStates.append(InvestorState()) }
        let (total, syndicateCount) = Self.record(amount: amount, syndicate: syndicate, in: &investorStates[Int(investor)])
        return promote(RankingKey(investorId: identifier.value, investor: investor, syndicateCount: syndicateCount, total: total))
    }

    /// Updates one investor's state in place; returns the new total and distinct syndicate count.
    private static func record(amount: Money, syndicate: Int32, in state: inout InvestorState) -> (MoneyTotal, Int) {
        state.total.add(amount)
        state.transactionCount += 1
        state.syndicates.insert(syndicate)
        return (state.total, state.syndicates.count)
    }

    /// The ordinal of the transaction's syndicate, assigned on first sight. (Ordinals are never
    /// reused; an id's ordinal stays valid even if the transaction that introduced it is rejected.)
    mutating func syndicateOrdinal(of syndicate: KeyedIdentifier) -> Int32 {
        syndicateIndex.insert(syndicate)
    }

    /// Places an investor whose key just grew; returns whether the leaders changed.
    private mutating func promote(_ key: RankingKey) -> Bool {
        var position: Int
        if leaders.count == topCount, let last = leaders.last, !key.ranksBefore(last) {
            // Outside and still not better than the K-th: a member would rank at least as high as
            // the K-th, and the K-th itself is the only member not strictly better.
            guard last.investor == key.investor else { return false }
            position = leaders.count - 1
            leaders[position] = key
        } else if let existing = leaders.firstIndex(where: { $0.investor == key.investor }) {
            position = existing
            leaders[position] = key
        } else if leaders.count < topCount {
            leaders.append(key)
            position = leaders.count - 1
        } else {
            position = leaders.count - 1
            leaders[position] = key
        }
        while position > 0, leaders[position].ranksBefore(leaders[position - 1]) {
            leaders.swapAt(position, position - 1)
            position -= 1
        }
        return true
    }
}
