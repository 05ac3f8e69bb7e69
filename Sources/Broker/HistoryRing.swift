/// The last `capacity` sequenced events (at least; see below), for resuming clients (`?since=`,
/// `Last-Event-ID`).
///
/// It holds whole commit groups: the array of events the broker hands to the sinks is kept as
/// it is (one reference) instead of being copied into a ring event by event. Copying each event
/// in and destroying the one it overwrote was ~13% of the broker's time under NDJSON ingest
/// (a retain and a release of each transaction's strings). The oldest group is dropped once
/// the newer ones alone hold `capacity` events, so between `capacity` and `capacity` plus one
/// group's events are kept; a group larger than `capacity` keeps only its last `capacity`.
struct HistoryRing {
    /// Groups, oldest first, from `head` on (the slots before `head` were dropped).
    private var groups: [[BrokerEvent]] = []
    private var head = 0
    /// Events held.
    private(set) var count = 0
    let capacity: Int

    init(capacity: Int) {
        self.capacity = max(capacity, 1)
    }

    /// Appends one group of events (sequenced, in order, after everything held) and returns the
    /// groups it drops, not yet released: the caller decides on which thread they are freed.
    @discardableResult
    mutating func append(contentsOf group: [BrokerEvent]) -> [[BrokerEvent]] {
        guard !group.isEmpty else { return [] }
        var dropped: [[BrokerEvent]] = []
        let kept = group.count > capacity ? Array(group.suffix(capacity)) : group
        groups.append(kept)
        count += kept.count
        while count - groups[head].count >= capacity {
            count -= groups[head].count
            dropped.append(groups[head])
            groups[head] = []
            head += 1
        }
        // Compact the dropped slots away now and then (amortised O(1) per group).
        if head >= 64, head * 2 >= groups.count {
            groups.removeFirst(head)
            head = 0
        }
        return dropped
    }

    /// Sequence number of the oldest event held (nil when empty).
    var oldestSeq: UInt64? { count == 0 ? nil : groups[head].first?.seq }

    /// Every held event with `seq > after`, oldest first; nil if some of them are no longer held.
    func events(after: UInt64, through newest: UInt64) -> [BrokerEvent]? {
        if after >= newest { return [] }
        guard let oldest = oldestSeq, oldest <= after + 1 else { return nil }
        var result: [BrokerEvent] = []
        result.reserveCapacity(Int(newest - after))
        for group in groups[head...] {
            guard let last = group.last, last.seq > after else { continue }
            for event in group where event.seq > after { result.append(event) }
        }
        return result
    }
}
