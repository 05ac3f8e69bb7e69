import SeededRandom
import Testing

@testable import Monitor

/// The chunked storage of ``SpikeWindow``: late inserts in sorted place, splits, eviction across
/// chunks, and the invariants every operation keeps.
@Suite("SpikeWindow chunks: late inserts and eviction")
struct SpikeWindowChunkTests {
    static let capacity = SpikeWindow.chunkCapacity

    /// Every chunk non-empty and at most the capacity, timestamps strictly ascending across
    /// chunks, the first-timestamp index in step, and the counters equal to what is stored.
    static func checkInvariants(_ window: SpikeWindow, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(window.allChunks.count == window.chunkFirstTimestamps.count, sourceLocation: sourceLocation)
        var previous: Int64?
        var entries = 0
        var stored = 0
        for (index, chunk) in window.allChunks.enumerated() {
            #expect(!chunk.isEmpty && chunk.count <= capacity, sourceLocation: sourceLocation)
            #expect(window.chunkFirstTimestamps[index] == chunk.first?.timestamp, sourceLocation: sourceLocation)
            for (position, entry) in chunk.enumerated() where index > 0 || position >= window.head {
                if let previous { #expect(entry.timestamp > previous, sourceLocation: sourceLocation) }
                previous = entry.timestamp
                entries += 1
                stored += entry.count
            }
        }
        if let first = window.allChunks.first {
            #expect(window.head < first.count, sourceLocation: sourceLocation)
            #expect(window.oldestTimestamp == first[window.head].timestamp, sourceLocation: sourceLocation)
        }
        #expect(window.entryCount == entries, sourceLocation: sourceLocation)
        #expect(window.count == stored + window.newestPending, sourceLocation: sourceLocation)
    }

    @Test("in order: chunks fill to capacity, then a new chunk starts")
    func inOrderFill() {
        var window = SpikeWindow(windowMilliseconds: 1_000_000, threshold: 1_000_000)
        for timestamp in 0..<Int64(Self.capacity) { _ = window.record(timestamp) }
        #expect(window.allChunks.count == 1)
        _ = window.record(Int64(Self.capacity))
        #expect(window.allChunks.map(\.count) == [Self.capacity, 1])
        Self.checkInvariants(window)
    }

    @Test("a late insert into a full chunk splits it in two halves, in sorted place")
    func splitOnLateInsert() {
        var window = SpikeWindow(windowMilliseconds: 1_000_000, threshold: 1_000_000)
        for timestamp in 0..<Int64(Self.capacity) { _ = window.record(timestamp * 2) }
        #expect(window.record(1) == .joinedLate)  // the lower half
        #expect(window.allChunks.map(\.count) == [Self.capacity / 2 + 1, Self.capacity / 2])
        #expect(window.allChunks[0][1].timestamp == 1)
        #expect(window.record(Int64(Self.capacity) * 2 - 3) == .joinedLate)  // the upper half
        #expect(window.allChunks.map(\.count) == [Self.capacity / 2 + 1, Self.capacity / 2 + 1])
        #expect(window.count == Self.capacity + 2)
        Self.checkInvariants(window)
    }

    @Test("a late insert into a full chunk before the last splits that chunk only")
    func splitMiddleChunk() {
        var window = SpikeWindow(windowMilliseconds: 1_000_000, threshold: 1_000_000)
        for timestamp in 0...Int64(2 * Self.capacity) { _ = window.record(timestamp * 2) }
        #expect(window.allChunks.map(\.count) == [Self.capacity, Self.capacity, 1])
        #expect(window.record(Int64(Self.capacity) * 2 + 5) == .joinedLate)  // inside the second chunk
        #expect(window.allChunks.map(\.count) == [Self.capacity, Self.capacity / 2 + 1, Self.capacity / 2, 1])
        #expect(window.record(3) == .joinedLate)  // inside the first chunk
        #expect(window.allChunks.map(\.count) == [Self.capacity / 2 + 1, Self.capacity / 2, Self.capacity / 2 + 1, Self.capacity / 2, 1])
        #expect(window.count == 2 * Self.capacity + 3)
        Self.checkInvariants(window)
        _ = window.record(Int64(4 * Self.capacity) + 2)  // new timestamps still append to the tail
        #expect(window.allChunks.last?.count == 2)
        Self.checkInvariants(window)
    }

    @Test("a late insert before every held entry becomes the first chunk's first timestamp")
    func insertAtFront() {
        var window = SpikeWindow(windowMilliseconds: 1_000, threshold: 1_000_000)
        _ = window.record(500)
        _ = window.record(600)
        #expect(window.record(1) == .joinedLate)
        #expect(window.chunkFirstTimestamps == [1])
        #expect(window.record(1) == .joinedLate)  // equal timestamps share the entry
        #expect(window.entryCount == 3)
        #expect(window.count == 4)
        Self.checkInvariants(window)
    }

    @Test("a full first chunk with evicted entries drops them instead of splitting")
    func compactFirstChunk() {
        var window = SpikeWindow(windowMilliseconds: 1_000, threshold: 1_000_000)
        for timestamp in 0..<Int64(Self.capacity) { _ = window.record(timestamp * 2) }
        // Newest 1022: the cutoff 22 evicted 0…22 (12 entries) from the full first chunk.
        #expect(window.head == 12)
        #expect(window.record(25) == .joinedLate)
        #expect(window.head == 0)
        #expect(window.allChunks.map(\.count) == [Self.capacity - 12 + 1])
        Self.checkInvariants(window)
    }

    @Test("eviction spans chunks and drops every emptied chunk")
    func evictAcrossChunks() {
        var window = SpikeWindow(windowMilliseconds: 10_000, threshold: 1_000_000)
        for timestamp in 0..<Int64(3 * Self.capacity) { _ = window.record(timestamp) }
        #expect(window.allChunks.count == 3)
        #expect(window.record(10_000 + Int64(2 * Self.capacity)) == .evaluated(count: Self.capacity))
        #expect(window.allChunks.count == 2)
        #expect(window.head == 1)
        Self.checkInvariants(window)
        _ = window.record(1_000_000)
        #expect(window.allChunks.count == 1 && window.entryCount == 1 && window.count == 1)
        Self.checkInvariants(window)
    }

    @Test("seeded shuffles with many duplicates match the literal reference, outcome by outcome")
    func shuffledAgainstReference() {
        // Windows that hold everything, most of it, and a sliver; duplicates from small ranges.
        let cases: [(window: Int64, distinct: Int64, records: Int)] = [
            (1_000_000, 3_000, 8_000), (2_500, 3_000, 8_000), (300, 3_000, 6_000), (1_000_000, 40, 3_000),
        ]
        for seed in UInt64(1)...6 {
            for (window, distinct, records) in cases {
                var generator = SeededGenerator(seed: seed &* 7_919 &+ UInt64(window))
                // Mostly rising with jitter, so that late inserts land everywhere in the window.
                var timestamps = (0..<records).map { index in
                    Int64(index) * distinct / Int64(records) + Int64.random(in: -distinct / 4...distinct / 4, using: &generator)
                }
                if seed % 2 == 0 { timestamps.shuffle(using: &generator) }
                var spike = SpikeWindow(windowMilliseconds: window, threshold: 40)
                var reference = SpikeReference(window: window, threshold: 40)
                var mismatches = 0
                for timestamp in timestamps {
                    let outcome = spike.record(timestamp)
                    let expected = reference.record(timestamp)
                    if case .alert(let count) = outcome {
                        if expected != count { mismatches += 1 }
                    } else if expected != nil {
                        mismatches += 1
                    }
                    if spike.count != reference.count || spike.isSpiking != reference.spiking { mismatches += 1 }
                }
                #expect(mismatches == 0, "seed \(seed), W \(window)")
                #expect(spike.entryCount == reference.distinctCount, "seed \(seed), W \(window)")
                Self.checkInvariants(spike)
            }
        }
    }

    @Test("expire empties the window; a later transaction is treated as if the entries were kept")
    func expire() {
        var kept = SpikeWindow(windowMilliseconds: 1_000, threshold: 2)
        for timestamp in [Int64(10), 20, 20, 30] { _ = kept.record(timestamp) }
        var expired = kept
        expired.expire()
        #expect(expired.entryCount == 0 && expired.count == 0 && expired.allChunks.isEmpty)
        #expect(expired.newestTimestamp == 30 && expired.isSpiking == kept.isSpiking)
        Self.checkInvariants(expired)
        for timestamp in [Int64(5_000), 5_000, 5_001, 5_002] {
            #expect(expired.record(timestamp) == kept.record(timestamp))
            #expect(expired.count == kept.count && expired.entryCount == kept.entryCount)
        }
        Self.checkInvariants(expired)
        // At the unit level (no rule clock), a record at the kept newest timestamp starts an entry.
        var alone = SpikeWindow(windowMilliseconds: 1_000, threshold: 5)
        _ = alone.record(7)
        alone.expire()
        #expect(alone.record(7) == .evaluated(count: 1))
        #expect(alone.record(8) == .evaluated(count: 2))
        Self.checkInvariants(alone)
    }

    @Test("the rule clock's floor: a timestamp at or before it is ignored, in order or late")
    func floor() {
        var window = SpikeWindow(windowMilliseconds: 1_000, threshold: 1)
        #expect(window.record(100, ignoringAtOrBefore: 100) == .ignored)
        #expect(window.newestTimestamp == nil && window.entryCount == 0)
        #expect(window.record(101, ignoringAtOrBefore: 100) == .evaluated(count: 1))
        #expect(window.record(50, ignoringAtOrBefore: 60) == .ignored)  // inside newest's window
        #expect(window.record(61, ignoringAtOrBefore: 60) == .joinedLate)
        #expect(window.record(101, ignoringAtOrBefore: 101) == .ignored)  // at the newest itself
        #expect(window.count == 2)
        Self.checkInvariants(window)
    }
}
