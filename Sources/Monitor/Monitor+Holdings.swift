extension Monitor {
    /// Spike-window entries held across every syndicate (equal timestamps share one entry), for
    /// the `/metrics` gauge. O(syndicates): it is read per scrape, not per transaction.
    public var heldWindowEntries: Int {
        var total = 0
        for index in syndicateStates.indices {
            total &+= syndicateStates[index].window.entryCount
        }
        return total
    }
}
