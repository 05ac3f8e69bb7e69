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
