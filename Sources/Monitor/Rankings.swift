/// Why ``Rankings`` refused a transaction; state is unchanged when this is thrown.
public enum RankingsError: Error, Sendable, Hashable {
    /// The investor's total would not fit in `Int64` cents.
    case totalOverflow(investorId: String)
    /// The amount is zero or negative; totals may only grow.
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
/// its own transactions arrives, and members only move up: ``apply(_:)`` costs O(K) string
/// comparisons at worst and O(1) for the common outsider that stays outside.
public struct Rankings: Sendable {
    struct InvestorState: Sendable {
        var totalCents: Int64 = 0
        var syndicates = SyndicateSet()
        var transactionCount = 0
    }

    /// K: how many leaders are maintained incrementally (and published in `rankings` events).
    public let topCount: Int
    /// Investor ids by ordinal, found by ``Transaction/investorKey``; `investorStates` by the same ordinal.
    var investorIndex = IdentifierTable()
    var investorStates: [InvestorState] = []
    /// Syndicate ids by ordinal: each investor stores small integers. ``Monitor`` keeps its
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
    func state(ofInvestor investorId: String, key: Int) -> InvestorState? {
        investorIndex.ordinal(of: investorId, key: key).map { investorStates[Int($0)] }
    }

    /// The largest investor total so far: a batch whose sum cannot overflow it cannot overflow any.
    public private(set) var largestTotalCents: Int64 = 0

    /// Checks a batch against the current totals without changing anything: one detail per
    /// transaction whose amount is not positive or that would overflow its investor's total
    /// (earlier transactions of the same batch included). Empty means `apply` cannot fail.
    public func validate(_ batch: [Transaction]) -> [TransactionValidationError.Detail] {
        var pending: [String: Int64] = [:]
        var details: [TransactionValidationError.Detail] = []
        for (index, transaction) in batch.enumerated() {
            guard transaction.amount.cents > 0 else {
                details.append(.init(index: index, field: "amount", reason: "must be greater than 0"))
                continue
            }
            let base =
                pending[transaction.investorId]
                ?? state(ofInvestor: transaction.investorId, key: transaction.investorKey)?.totalCents ?? 0
            let (sum, overflow) = base.addingReportingOverflow(transaction.amount.cents)
            if overflow {
                details.append(
                    .init(index: index, field: "amount", reason: "would overflow the investor's total invested"))
            } else {
                pending[transaction.investorId] = sum
            }
        }
        return details
    }

    /// Adds one transaction; returns whether the top K list changed (ranks, ids, counts or totals).
    ///
    /// Throws before changing any state if the amount is not positive or the total would overflow.
    @discardableResult
    public mutating func apply(_ transaction: Transaction) throws(RankingsError) -> Bool {
        guard transaction.amount.cents > 0 else { throw .nonPositiveAmount }
        return try apply(
            investorId: transaction.investorId, key: transaction.investorKey, amount: transaction.amount,
            syndicate: syndicateOrdinal(of: transaction.syndicateId, key: transaction.syndicateKey))
    }

    /// ``apply(_:)`` given the fields it reads, for a syndicate that already has its ordinal
    /// (``Monitor`` reads the fields in place and looks the ordinal up once for both).
    mutating func apply(investorId: String, key: Int, amount: Money, syndicate: Int32) throws(RankingsError) -> Bool {
        guard amount.cents > 0 else { throw .nonPositiveAmount }
        let investor = Int(investorIndex.insert(investorId, key: key))
        if investor == investorStates.count { investorStates.append(InvestorState()) }
        // The state is updated in place, or left alone if the total would overflow (a new
        // investor's first amount always fits).
        guard let (total, syndicateCount) = Self.record(amount: amount, syndicate: syndicate, in: &investorStates[investor])
        else { throw .totalOverflow(investorId: investorId) }
        if total > largestTotalCents { largestTotalCents = total }
        return promote(RankingKey(investorId: investorId, syndicateCount: syndicateCount, totalCents: total))
    }

    /// Updates one investor's state in place unless its total would overflow; returns the new
    /// total and distinct syndicate count.
    private static func record(amount: Money, syndicate: Int32, in state: inout InvestorState) -> (Int64, Int)? {
        let (total, overflow) = state.totalCents.addingReportingOverflow(amount.cents)
        if overflow { return nil }
        state.totalCents = total
        state.transactionCount += 1
        state.syndicates.insert(syndicate)
        return (total, state.syndicates.count)
    }

    /// The ordinal of the transaction's syndicate, assigned on first sight. (Ordinals are never
    /// reused; an id's ordinal stays valid even if the transaction that introduced it is rejected.)
    mutating func syndicateOrdinal(of syndicateId: String, key: Int) -> Int32 {
        syndicateIndex.insert(syndicateId, key: key)
    }

    /// Places an investor whose key just grew; returns whether the leaders changed.
    private mutating func promote(_ key: RankingKey) -> Bool {
        var position: Int
        if leaders.count == topCount, let last = leaders.last, !key.ranksBefore(last) {
            // Outside and still not better than the K-th: a member would rank at least as high as
            // the K-th, and the K-th itself is the only member not strictly better.
            guard last.investorId == key.investorId else { return false }
            position = leaders.count - 1
            leaders[position] = key
        } else if let existing = leaders.firstIndex(where: { $0.investorId == key.investorId }) {
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
