import SeededRandom
import Testing

@testable import Broker

/// ``IdempotencyIndex``'s two bounds (count and log time) and its export and restore as an
/// ``IdempotencyWindow`` (what a cluster snapshot carries).
@Suite("IdempotencyIndex: time expiry and the window a snapshot carries")
struct IdempotencyWindowTests {
    /// Commits `ids` (claimed first) at log time `time`; fingerprints are the ids' positions.
    static func commit(_ index: inout IdempotencyIndex, _ ids: [IdempotencyIndex.Key], time: UInt64, fingerprint: Int = 7) {
        for id in ids { #expect(index.claim(id, fingerprint: fingerprint) == nil) }
        index.commit(ids, time: time)
    }

    static func keys(_ count: Int, from first: UInt64 = 1) -> [IdempotencyIndex.Key] {
        (0..<UInt64(count)).map { IdempotencyIndex.Key(high: first + $0, low: 100 + first + $0) }
    }

    @Test func expireForgetsExactlyTheBatchesOlderThanTheCutoff() {
        var index = IdempotencyIndex(capacity: 100)
        let ids = Self.keys(9)
        Self.commit(&index, Array(ids[0..<2]), time: 10, fingerprint: 1)
        Self.commit(&index, Array(ids[2..<4]), time: 20, fingerprint: 2)
        Self.commit(&index, Array(ids[4..<5]), time: 20, fingerprint: 3)  // the same log time: one batch
        Self.commit(&index, Array(ids[5..<9]), time: 30, fingerprint: 4)
        #expect(index.window.batches == [.init(count: 2, time: 10), .init(count: 3, time: 20), .init(count: 4, time: 30)])

        index.expire(before: 10)
        #expect(index.count == 9, "nothing is older than 10")
        index.expire(before: 20)
        #expect(ids[0..<2].allSatisfy { index.fingerprint(of: $0) == nil }, "the batch at 10 is forgotten")
        #expect(ids[2..<9].map { index.fingerprint(of: $0) } == [2, 2, 3, 4, 4, 4, 4], "the batches at 20 and 30 are kept")
        #expect(index.count == 7)
        #expect(index.window.batches == [.init(count: 3, time: 20), .init(count: 4, time: 30)])
        #expect(index.window.ids.map(\.high) == ids[2..<9].map(\.high))

        index.expire(before: 30)
        #expect(index.count == 4)
        #expect(index.window.batches == [.init(count: 4, time: 30)])
        index.expire(before: 31)
        #expect(index.count == 0)
        #expect(index.window == IdempotencyWindow())
        #expect(ids.allSatisfy { index.claim($0, fingerprint: 0) == nil }, "every id is new again")
    }

    /// Count eviction and time expiry together, against a model: an id is known exactly while it is
    /// among the last `capacity` committed ids AND its log time is not before the latest cutoff,
    /// with the fingerprint it was committed with. Every few hundred steps a copy restored from the
    /// index's window joins, and from then on must answer every claim and export every window
    /// exactly as the original does.
    @Test(arguments: [21, 22, 23, 24])
    func countAndTimeBoundsAgreeWithAModel(seed: UInt64) {
        var random = SeededGenerator(seed: seed)
        let capacity = 40
        var index = IdempotencyIndex(capacity: capacity)
        var restored: IdempotencyIndex?
        let pool = (0..<150).map { _ in IdempotencyIndex.Key(high: random.next(), low: random.next()) }
        var committed: [(key: IdempotencyIndex.Key, fingerprint: Int, time: UInt64)] = []
        var time: UInt64 = 1_000
        var cutoff: UInt64 = 0
        func live() -> ArraySlice<(key: IdempotencyIndex.Key, fingerprint: Int, time: UInt64)> {
            let tail = committed.suffix(capacity)
            return tail[(tail.firstIndex { $0.time >= cutoff } ?? tail.endIndex)...]
        }
        func known(_ key: IdempotencyIndex.Key) -> Int? {
            live().last { $0.key == key }?.fingerprint
        }
        for step in 0..<3_000 {
            if step % 400 == 0 { restored = IdempotencyIndex(capacity: capacity, restoring: index.window) }
            // A request of 1–6 ids at a log time that never decreases and is often repeated.
            time += [0, 0, 1, 5, 30][Int(random.next() % 5)]
            var claimed: [IdempotencyIndex.Key] = []
            for _ in 0..<Int(random.next() % 6 + 1) {
                let key = pool[Int(random.next() % UInt64(pool.count))]
                let expected = claimed.contains(key) ? step : known(key)
                let answer = index.claim(key, fingerprint: step)
                #expect(answer == expected, "claim at step \(step)")
                if restored != nil {
                    let copyAnswer = restored?.claim(key, fingerprint: step)
                    #expect(copyAnswer == answer, "the restored copy's claim at step \(step)")
                }
                if answer == nil { claimed.append(key) }
            }
            if random.next() % 6 == 0 {
                for key in claimed {
                    index.release(key)
                    restored?.release(key)
                }
            } else {
                index.commit(claimed, time: time)
                restored?.commit(claimed, time: time)
                committed += claimed.map { ($0, step, time) }
            }
            if random.next() % 4 == 0 {
                // A cutoff at or before the newest log time (as `now - ttl` is).
                cutoff = max(cutoff, time - random.next() % 100)
                index.expire(before: cutoff)
                restored?.expire(before: cutoff)
            }
            let window = index.window
            let model = live()
            #expect(window.ids.map { IdempotencyIndex.Key(high: $0.high, low: $0.low) } == model.map(\.key), "ids at step \(step)")
            #expect(window.ids.map(\.fingerprint) == model.map(\.fingerprint), "fingerprints at step \(step)")
            #expect(window.batches.map(\.count).reduce(0, +) == window.ids.count, "batches cover the ids at step \(step)")
            #expect(window.batches.map(\.time) == Self.runs(model.map(\.time)), "batch times at step \(step)")
            #expect(index.count == model.count)
            if let restored { #expect(restored.window == window, "the restored copy's window at step \(step)") }
        }
        for key in pool { #expect(index.fingerprint(of: key) == known(key)) }
    }

    /// The distinct values of a non-decreasing sequence, in order.
    static func runs(_ times: [UInt64]) -> [UInt64] {
        times.reduce(into: []) { runs, time in if runs.last != time { runs.append(time) } }
    }

    @Test func aRestoredIndexAnswersAsTheOriginal() {
        var index = IdempotencyIndex(capacity: 8)
        let ids = Self.keys(12)
        for (position, id) in ids.enumerated() {
            #expect(index.claim(id, fingerprint: -position) == nil)
            index.commit([id], time: UInt64(position / 3))
        }
        let restored = IdempotencyIndex(capacity: 8, restoring: index.window)
        for id in ids + Self.keys(3, from: 500) { #expect(restored.fingerprint(of: id) == index.fingerprint(of: id)) }
        #expect(restored.window == index.window)
        #expect(restored.count == 8)
    }

    @Test func singleNodeWindowsHaveNoTimesAndRestoreAsTheyWere() {
        var index = IdempotencyIndex(capacity: 3)
        let ids = Self.keys(5)
        for id in ids {
            _ = index.claim(id, fingerprint: 9)
            index.commit([id])
        }
        #expect(index.window.batches.isEmpty)
        var restored = IdempotencyIndex(capacity: 3, restoring: index.window)
        #expect(restored.window == index.window)
        let next = Self.keys(1, from: 50)
        _ = index.claim(next[0], fingerprint: 1)
        index.commit(next)
        _ = restored.claim(next[0], fingerprint: 1)
        restored.commit(next)
        #expect(restored.window == index.window)
        #expect(restored.fingerprint(of: ids[2]) == nil, "the oldest id is evicted from both")
    }

    @Test func restoringIntoASmallerCapacityKeepsTheNewestIds() {
        var index = IdempotencyIndex(capacity: 10)
        let ids = Self.keys(10)
        Self.commit(&index, Array(ids[0..<3]), time: 1, fingerprint: 1)
        Self.commit(&index, Array(ids[3..<8]), time: 2, fingerprint: 2)
        Self.commit(&index, Array(ids[8..<10]), time: 3, fingerprint: 3)
        let smaller = IdempotencyIndex(capacity: 4, restoring: index.window)
        #expect(smaller.count == 4)
        #expect(ids.map { smaller.fingerprint(of: $0) } == [nil, nil, nil, nil, nil, nil, 2, 2, 3, 3])
        #expect(smaller.window.ids == Array(index.window.ids.suffix(4)))
        #expect(smaller.window.batches == [.init(count: 2, time: 2), .init(count: 2, time: 3)])
    }
}
