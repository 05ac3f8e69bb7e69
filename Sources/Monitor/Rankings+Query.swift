extension Rankings {
    /// The best `limit` investors, best first, with ranks from 1.
    ///
    /// For `limit ≤ topCount` this copies the maintained leaders (O(limit)). Larger limits select
    /// from all investors with a bounded heap: O(n log limit), no full sort.
    public func top(_ limit: Int) -> [RankingEntry] {
        guard limit > 0 else { return [] }
        if limit <= topCount || leaders.count < topCount {
            return leaders.prefix(limit).enumerated().map { $0.element.entry(rank: $0.offset + 1) }
        }
        return select(limit).enumerated().map { $0.element.entry(rank: $0.offset + 1) }
    }

    /// The maintained top K, as published in `rankings` events.
    public var leaderboard: [RankingEntry] { top(topCount) }

    /// One investor's totals, or `nil` if the investor is unknown (ids match by their UTF-8 bytes).
    public func investor(_ investorId: String) -> InvestorSummary? {
        guard let investor = investorIndex.ordinal(of: KeyedIdentifier(investorId)) else { return nil }
        let state = investorStates[Int(investor)]
        let rank = leaders.firstIndex { $0.investor == investor }.map { $0 + 1 }
        return InvestorSummary(
            investorId: investorId, totalInvested: state.total,
            syndicateIds: state.syndicates.members.map { syndicateIndex.identifiers[Int($0)] }.sorted { $0.utf8Precedes($1) },
            transactionCount: state.transactionCount,
            rank: rank)
    }

    /// The `limit` best keys of all investors, best first.
    func select(_ limit: Int) -> [RankingKey] {
        // A binary heap whose root is the worst kept key, so a better candidate replaces it.
        var heap: [RankingKey] = []
        heap.reserveCapacity(min(limit, investorStates.count))
        @inline(__always) func worse(_ left: RankingKey, _ right: RankingKey) -> Bool { right.ranksBefore(left) }
        func siftDown(_ start: Int) {
            var parent = start
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var worst = parent
                if left < heap.count, worse(heap[left], heap[worst]) { worst = left }
                if right < heap.count, worse(heap[right], heap[worst]) { worst = right }
                if worst == parent { return }
                heap.swapAt(parent, worst)
                parent = worst
            }
        }
        for (ordinal, (investorId, state)) in zip(investorIndex.identifiers, investorStates).enumerated() {
            let key = RankingKey(
                investorId: investorId, investor: Int32(truncatingIfNeeded: ordinal),
                syndicateCount: state.syndicates.count, total: state.total)
            if heap.count < limit {
                heap.append(key)
                var child = heap.count - 1
                while child > 0 {
                    let parent = (child - 1) / 2
                    guard worse(heap[child], heap[parent]) else { break }
                    heap.swapAt(child, parent)
                    child = parent
                }
            } else if let root = heap.first, key.ranksBefore(root) {
                heap[0] = key
                siftDown(0)
            }
        }
        return heap.sorted { $0.ranksBefore($1) }
    }
}
