import SeededRandom
import Testing

@testable import Broker

/// The idempotency table against a `Dictionary` model: random inserts and removals over few slots
/// (so probe runs collide, wrap around the end and are shifted back by deletions) must always
/// agree with the model.
@Suite("DigestTable: open addressing with backward-shift deletion")
struct DigestTableTests {
    @Test(arguments: [1, 2, 3, 4, 5])
    func agreesWithADictionaryUnderRandomInsertsAndRemovals(seed: UInt64) {
        var random = SeededGenerator(seed: seed)
        let table = DigestTable(capacity: 8)  // 16 slots: at most 8 live keys keeps it half full
        var model: [IdempotencyIndex.Key: Int] = [:]
        // 24 distinct keys, several sharing a `high` half (same home slot) but not `low`.
        let keys = (0..<24).map { IdempotencyIndex.Key(high: random.next() % 6, low: UInt64($0 + 1)) }
        for step in 0..<5_000 {
            let key = keys[Int(random.next() % UInt64(keys.count))]
            if random.next() % 2 == 0, model.count < 8 {
                let value = step
                let previous = table.insertIfAbsent(key, value: value)
                #expect(previous == model[key], "insert at step \(step)")
                if model[key] == nil { model[key] = value }
            } else {
                table.remove(key)
                model[key] = nil
            }
            #expect(table.count == model.count)
            for probe in keys {
                #expect(table.value(for: probe) == model[probe], "lookup at step \(step)")
            }
        }
    }

    @Test func theIndexForgetsExactlyTheOldestIdsPastItsCapacity() {
        var index = IdempotencyIndex(capacity: 3)
        let ids = ["a", "b", "c", "d", "e"].map { IdempotencyIndex.Key($0) }
        for (value, id) in ids.enumerated() {
            #expect(index.claim(id, fingerprint: value) == nil)
            index.commit([id])
        }
        #expect(index.count == 3)
        #expect(index.claim(ids[0], fingerprint: 99) == nil, "a was forgotten")
        index.release(ids[0])
        #expect(index.claim(ids[1], fingerprint: 99) == nil, "b was forgotten")
        index.release(ids[1])
        #expect(index.claim(ids[4], fingerprint: 99) == 4, "e is remembered with its fingerprint")
    }

    /// The index against a model of its contract: an id is known exactly while it is among the
    /// last `capacity` committed ids, with the fingerprint it was committed with. Random claims,
    /// commits and releases over a pool of ids three times the capacity, so ids are forgotten and
    /// claimed again; at the end one request claims more new ids than the table has slots.
    @Test(arguments: [11, 12, 13])
    func theIndexAgreesWithAWindowModel(seed: UInt64) {
        var random = SeededGenerator(seed: seed)
        let capacity = 500
        var index = IdempotencyIndex(capacity: capacity)
        let pool = (0..<1_500).map { _ in IdempotencyIndex.Key(high: random.next(), low: random.next()) }
        var committed: [IdempotencyIndex.Key] = []  // in order
        var fingerprints: [IdempotencyIndex.Key: Int] = [:]
        func known(_ key: IdempotencyIndex.Key) -> Int? {
            committed.suffix(capacity).contains(key) ? fingerprints[key] : nil
        }
        for step in 0..<6_000 {
            var claimed: [IdempotencyIndex.Key] = []
            var claimedSet: Set<IdempotencyIndex.Key> = []
            for _ in 0..<Int(random.next() % 4 + 1) {
                let key = pool[Int(random.next() % UInt64(pool.count))]
                let fingerprint = step
                let expected = claimedSet.contains(key) ? fingerprints[key] : known(key)
                let answer = index.claim(key, fingerprint: fingerprint)
                #expect(answer == expected, "claim at step \(step)")
                if answer == nil {
                    claimed.append(key)
                    claimedSet.insert(key)
                    fingerprints[key] = fingerprint
                }
            }
            if random.next() % 5 == 0 {
                for key in claimed {
                    index.release(key)
                    fingerprints[key] = nil
                }
                // A released id is as unknown as before.
                for key in claimed where committed.suffix(capacity).contains(key) {
                    Issue.record("a claimed id was known at step \(step)")
                }
            } else {
                index.commit(claimed)
                committed += claimed
            }
            #expect(index.count <= capacity + claimed.count, "bounded at step \(step)")
        }
        for key in pool { #expect(index.claim(key, fingerprint: -1) == known(key)) }
    }

    /// Keys whose low halves are equal must not share a probe run: the home slot comes from the
    /// high half alone (when the low half was an unkeyed FNV-1a, anyone could compute such ids).
    @Test func keysWithEqualUnkeyedHalvesDoNotPileUp() {
        var random = SeededGenerator(seed: 7)
        let table = DigestTable(capacity: 10_000)
        let keys = (0..<10_000).map { _ in IdempotencyIndex.Key(high: random.next(), low: 42) }
        for (index, key) in keys.enumerated() { #expect(table.insertIfAbsent(key, value: index) == nil) }
        let longest = keys.compactMap { table.probeDistance($0) }.max() ?? 0
        #expect(table.count == keys.count)
        #expect(longest < 100, "longest probe distance \(longest)")
    }
}
