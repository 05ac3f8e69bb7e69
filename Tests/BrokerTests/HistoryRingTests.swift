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

    // MARK: The byte bound

    private func message(_ seq: UInt64, bytes: Int) -> BrokerEvent {
        BrokerEvent(seq: seq, topic: "orders", body: .message(data: [UInt8](repeating: 0x30, count: bytes)))
    }

    @Test func retainedBytesCountWhatTheEventKeepsAlive() {
        let large = message(1, bytes: 60 << 10)
        #expect(large.retainedBytes >= 60 << 10, "the published data is held")
        #expect(large.retainedBytes < (60 << 10) + 256, "plus little else")
        let short = Transaction(id: "t1", investorId: "i1", syndicateId: "s1", amount: Money(cents: 1), timestamp: 0)
        let long = Transaction(
            id: String(repeating: "t", count: 100), investorId: String(repeating: "i", count: 100),
            syndicateId: String(repeating: "s", count: 100), amount: Money(cents: 1), timestamp: 0)
        let batch = [short, long]
        let inline = BrokerEvent(seq: 1, topic: Topic.transactions, body: .transaction(batch: batch, index: 0))
        let heap = BrokerEvent(seq: 2, topic: Topic.transactions, body: .transaction(batch: batch, index: 1))
        // Up to 15 UTF-8 bytes a string is stored inline; longer ones take their bytes and a header.
        #expect(heap.retainedBytes - inline.retainedBytes >= 300, "three 100-byte strings on the heap")
        #expect(heap.retainedBytes - inline.retainedBytes <= 3 * (100 + 48))
    }

    @Test func oldestGroupsGoWhileTheBytesExceedTheBound() {
        let size = message(1, bytes: 1_000).retainedBytes
        var ring = HistoryRing(capacity: 10_000, byteCapacity: 10 * size)
        var dropped: [UInt64] = []
        for group in 0..<20 {
            let events = (1...3).map { message(UInt64(group * 3 + $0), bytes: 1_000) }
            dropped += ring.append(contentsOf: events).flatMap { $0.map(\.seq) }
            #expect(ring.byteCount <= 10 * size, "never above the bound")
            #expect(ring.byteCount == ring.count * size)
        }
        // Three whole groups (9 events) fit in 10 events' bytes; a fourth would not.
        #expect(ring.count == 9)
        #expect(ring.oldestSeq == 52)
        #expect(dropped == Array(1...51))
        #expect(ring.events(after: 51, through: 60)?.map(\.seq) == Array(52...60))
        #expect(ring.events(after: 50, through: 60) == nil, "a resume from before the retained range")
    }

    @Test func aGroupLargerThanTheByteBoundKeepsTheEventsThatFit() {
        let size = message(1, bytes: 1_000).retainedBytes
        var ring = HistoryRing(capacity: 100, byteCapacity: 3 * size + size / 2)
        ring.append(contentsOf: [message(1, bytes: 1_000)])
        let dropped = ring.append(contentsOf: (2...11).map { message($0, bytes: 1_000) })
        #expect(dropped.map { $0.map(\.seq) } == [[1]])
        #expect(ring.count == 3 && ring.oldestSeq == 9 && ring.byteCount == 3 * size)
        // One event larger than the whole bound: nothing is held, so no resume can replay.
        let emptied = ring.append(contentsOf: [message(12, bytes: 10_000)])
        #expect(emptied.map { $0.map(\.seq) } == [[9, 10, 11]])
        #expect(ring.count == 0 && ring.byteCount == 0 && ring.oldestSeq == nil)
        #expect(ring.events(after: 11, through: 12) == nil)
        #expect(ring.events(after: 12, through: 12)?.isEmpty == true)
        ring.append(contentsOf: [message(13, bytes: 1_000)])
        #expect(ring.events(after: 12, through: 13)?.map(\.seq) == [13])
    }

    @Test(arguments: [4, 5, 6])
    func bothBoundsAgreeWithAListOfEveryEvent(seed: UInt64) {
        var random = SeededGenerator(seed: seed)
        let capacity = 5 + Int(random.next() % 40)
        let byteCapacity = 2_000 + Int(random.next() % 20_000)
        var ring = HistoryRing(capacity: capacity, byteCapacity: byteCapacity)
        var all: [BrokerEvent] = []
        for _ in 0..<300 {
            let size = Int(random.next() % 8) + 1
            let group = (1...size).map { message(UInt64(all.count + $0), bytes: Int(random.next() % 3_000)) }
            ring.append(contentsOf: group)
            all += group
            #expect(ring.byteCount <= byteCapacity)
            #expect(ring.count <= capacity + size)
            #expect(ring.byteCount == HistoryRing.retainedBytes(of: Array(all.suffix(ring.count))))
            let newest = UInt64(all.count)
            let after = UInt64(random.next() % (newest + 1))
            let answer = ring.events(after: after, through: newest)?.map(\.seq)
            if after + 1 >= (ring.oldestSeq ?? newest + 1) || after == newest {
                #expect(answer == all[Int(after)...].map(\.seq), "events after \(after)")
            } else {
                #expect(answer == nil, "events after \(after) are partly gone")
            }
        }
    }

    @Test func theBrokersRunningSumMatchesTheEventsItHolds() async {
        let rules = MonitorConfiguration(amountThreshold: Money(cents: 500), spikeWindowSeconds: 60, spikeThreshold: 1)
        let broker = MessageBroker(monitor: TransactionMonitor(configuration: rules), epoch: "e1") { _ in }
        func batch(_ prefix: String, _ count: Int) -> [Transaction] {
            (0..<count).map { (index: Int) -> Transaction in
                let syndicate = index % 2 == 0 ? "s" : "syndicate-with-a-long-name"
                let cents = Int64(100 * (index % 9) + 1)
                return Transaction(
                    id: "\(prefix)-transaction-identifier-\(index)", investorId: "investor-with-a-long-name-\(index % 7)",
                    syndicateId: syndicate, amount: Money(cents: cents), timestamp: Int64(index))
            }
        }
        // Replayed and live entries, with alerts (amount and spike), rankings and a message.
        await broker.replay(.transactions(batch("replayed", 40)))
        await broker.replay(.message(topic: "orders", data: Array("{\"n\":1}".utf8)))
        await withCheckedContinuation { continuation in broker.ingest(batch("live", 300)) { _ in continuation.resume() } }
        await withCheckedContinuation { continuation in
            broker.publish(topic: "orders", data: [UInt8](repeating: 0x31, count: 5_000)) { _ in continuation.resume() }
        }
        let (held, recomputed, count) = await withCheckedContinuation { continuation in
            broker.query { broker in
                let events = broker.history.events(after: 0, through: broker.currentSeq) ?? []
                continuation.resume(returning: (broker.history.byteCount, HistoryRing.retainedBytes(of: events), events.count))
            }
        }
        #expect(count > 340, "transactions, alerts, rankings and messages are held")
        #expect(held == recomputed, "the sum made with the events is their retained bytes")
    }
}
