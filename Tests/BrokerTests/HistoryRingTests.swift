import Monitor
import SeededRandom
import Testing

@testable import Broker

/// The resume history keeps whole commit groups: it must hold at least the last `capacity`
/// events, never more than `capacity` plus one group, and answer `events(after:through:)` exactly
/// as a plain list of every event ever appended would, or nil once the oldest wanted is gone.
@Suite("HistoryRing: the last events, kept as whole groups")
struct HistoryRingTests {
    private func message(_ seq: UInt64) -> BrokerEvent {
        BrokerEvent(seq: seq, topic: "t", body: .message(data: []))
    }

    @Test(arguments: [1, 2, 3])
    func agreesWithAListOfEveryEvent(seed: UInt64) {
        var random = SeededGenerator(seed: seed)
        let capacity = 1 + Int(random.next() % 40)
        var ring = HistoryRing(capacity: capacity)
        var all: [UInt64] = []
        var released: [UInt64] = []
        var truncated = 0
        for _ in 0..<400 {
            let size = Int(random.next() % UInt64(capacity * 2)) + 1
            let group = (1...size).map { message(UInt64(all.count + $0)) }
            let dropped = ring.append(contentsOf: group)
            all += group.map(\.seq)
            released += dropped.flatMap { $0.map(\.seq) }
            truncated += max(0, size - capacity)
            // The dropped groups are the oldest ones, whole and in order: together with what is
            // held (and the heads cut off groups larger than the capacity) they are every event.
            #expect(released.count + ring.count + truncated == all.count, "every event held or dropped once")
            #expect(released == released.sorted(), "dropped in order")
            #expect(released.last.map { $0 < (ring.oldestSeq ?? 0) } ?? true, "dropped before the oldest held")
            let largestGroup = min(size, capacity)
            #expect(ring.count >= min(capacity, all.count), "holds at least the last capacity events")
            #expect(ring.count < capacity + max(largestGroup, 2 * capacity), "bounded")
            let oldest = ring.oldestSeq ?? 0
            #expect(oldest == all[all.count - ring.count], "oldestSeq is the first event held")
            let newest = UInt64(all.count)
            let after = UInt64(random.next() % (newest + 1))
            let answer = ring.events(after: after, through: newest)?.map(\.seq)
            if after + 1 >= oldest {
                #expect(answer == Array(all[Int(after)...]), "events after \(after)")
            } else {
                #expect(answer == nil, "events after \(after) are partly gone")
            }
        }
    }

    @Test func aGroupLargerThanTheCapacityKeepsItsLastEvents() {
        var ring = HistoryRing(capacity: 3)
        ring.append(contentsOf: (1...10).map(message))
        #expect(ring.count == 3)
        #expect(ring.oldestSeq == 8)
        #expect(ring.events(after: 7, through: 10)?.map(\.seq) == [8, 9, 10])
        #expect(ring.events(after: 6, through: 10) == nil)
    }

    @Test func anEmptyRingHasNoOldestAndNothingToReplay() {
        let ring = HistoryRing(capacity: 5)
        #expect(ring.oldestSeq == nil)
        #expect(ring.events(after: 0, through: 0)?.isEmpty == true)
        #expect(ring.events(after: 0, through: 3) == nil)
    }
}
