/// The recent sequenced events, for resuming clients (`?since=`, `Last-Event-ID`), bounded by
/// two limits at once: `capacity` events and `byteCapacity` bytes of what the events hold in
/// memory (``BrokerEvent/retainedBytes``).
///
/// It holds whole commit groups: the array of events the broker hands to the sinks is kept as
/// it is (one reference) instead of being copied into a ring event by event. Copying each event
/// in and destroying the one it overwrites costs ~13% of the broker's time under NDJSON ingest
/// (a retain and a release of each transaction's strings; `loadtest/run.sh ingest --batch 1000`). Each group arrives with its bytes
/// already summed (the broker adds them up as it makes the events), so the byte bound costs no
/// pass over a group here, except when a group is cut to fit a bound.
///
/// The event bound keeps at least the last `capacity` events: the oldest group is dropped once
/// the newer ones alone hold `capacity`, so between `capacity` and `capacity` plus one group's
/// events are kept. The byte bound is a hard ceiling: oldest groups are dropped while the bytes
/// held exceed `byteCapacity`. A group larger than either bound alone keeps only its last events
/// that fit (possibly none: then nothing is held and every resume gets a snapshot); the request
/// batches those events share stay allocated whole, so at most one group's batches are held
/// beyond the count.
struct HistoryRing {
    /// Groups, oldest first, from `head` on (the slots before `head` were dropped).
    private var groups: [[BrokerEvent]] = []
    /// `retainedBytes` of each group in `groups`, same indices.
    private var groupBytes: [Int] = []
    private var head = 0
    /// Events held.
    private(set) var count = 0
    /// Sum of the held events' ``BrokerEvent/retainedBytes``.
    private(set) var byteCount = 0
    let capacity: Int
    let byteCapacity: Int

    init(capacity: Int, byteCapacity: Int = .max) {
        self.capacity = max(capacity, 1)
        self.byteCapacity = max(byteCapacity, 0)
    }

    /// Appends one group of events (sequenced, in order, after everything held) and returns the
    /// groups it drops, not yet released: the caller decides on which thread they are freed.
    @discardableResult
    mutating func append(contentsOf group: [BrokerEvent]) -> [[BrokerEvent]] {
        append(contentsOf: group, retainedBytes: Self.retainedBytes(of: group))
    }

    /// `append(contentsOf:)` with the group's retained bytes already summed (the broker sums
    /// them as it makes the events, while their transactions are in cache).
    @discardableResult
    mutating func append(contentsOf group: [BrokerEvent], retainedBytes: Int) -> [[BrokerEvent]] {
        guard !group.isEmpty else { return [] }
        var dropped: [[BrokerEvent]] = []
        var kept = group
        var keptBytes = retainedBytes
        if group.count > capacity {
            kept = Array(group.suffix(capacity))
            keptBytes = Self.retainedBytes(of: kept)
        }
        if keptBytes > byteCapacity {
            // Only the group's last events fit: everything older goes, so that what is held
            // stays one run of consecutive events.
            (kept, keptBytes) = Self.suffix(of: kept, within: byteCapacity)
            while head < groups.count { dropHead(into: &dropped) }
            if kept.isEmpty {
                compact()
                return dropped
            }
        }
        groups.append(kept)
        groupBytes.append(keptBytes)
        count += kept.count
        byteCount += keptBytes
        while head < groups.count - 1, count - groups[head].count >= capacity || byteCount > byteCapacity {
            dropHead(into: &dropped)
        }
        compact()
        return dropped
    }

    private mutating func dropHead(into dropped: inout [[BrokerEvent]]) {
        count -= groups[head].count
        byteCount -= groupBytes[head]
        dropped.append(groups[head])
        groups[head] = []
        groupBytes[head] = 0
        head += 1
    }

    /// Compacts the dropped slots away now and then (amortised O(1) per group).
    private mutating func compact() {
        if head == groups.count {
            groups.removeAll(keepingCapacity: true)
            groupBytes.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 64, head * 2 >= groups.count {
            groups.removeFirst(head)
            groupBytes.removeFirst(head)
            head = 0
        }
    }

    /// The sum of `events`' retained bytes.
    static func retainedBytes(of events: [BrokerEvent]) -> Int {
        var total = 0
        for index in events.indices { total &+= events[index].retainedBytes }
        return total
    }

    /// The longest suffix of `events` whose retained bytes are at most `limit`, and those bytes.
    private static func suffix(of events: [BrokerEvent], within limit: Int) -> ([BrokerEvent], Int) {
        var total = 0
        var start = events.endIndex
        while start > events.startIndex {
            let size = events[start - 1].retainedBytes
            guard total + size <= limit else { break }
            total += size
            start -= 1
        }
        return (Array(events[start...]), total)
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
