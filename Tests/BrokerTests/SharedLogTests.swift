import SharedLogConformance
import Testing

@testable import Broker

@Suite("Shared log: skip sets, fingerprints, the in-memory log's decisions")
struct SharedLogTests {
    @Test func skipSetTextRoundTripsAscending() throws {
        var skip = SharedLogSkipSet()
        skip.skipDuplicate(request: 2, index: 5)
        skip.refuse(1)
        skip.skipDuplicate(request: 2, index: 0)
        skip.skipDuplicate(request: 10, index: 3)
        #expect(skip.text == "1 2.0 2.5 10.3")
        #expect(SharedLogSkipSet(text: Array(skip.text.utf8)) == skip)
        #expect(SharedLogSkipSet(text: [UInt8]()) == SharedLogSkipSet())
        for damaged in ["1  2", " 1", "1.", ".1", "1.2.3", "a", "-1", "1234567890", "1 "] {
            #expect(SharedLogSkipSet(text: Array(damaged.utf8)) == nil, "\(damaged)")
        }
    }

    @Test func contentBytesAreExactAndUnambiguous() {
        var bytes: [UInt8] = []
        SharedLogRecords.appendContent(of: transaction("t1", "ab", "c", cents: 5, at: 1), to: &bytes)
        #expect(bytes == [0, 0, 0, 2, 97, 98, 0, 0, 0, 1, 99, 0, 0, 0, 0, 0, 0, 0, 5])
        let records = SharedLogRecords(key0: 3, key1: 4)
        let one = records.records(of: [transaction("t1", "ab", "c", cents: 5, at: 1), transaction(nil, "x", "y", cents: 1)])
        #expect(one.count == 48 && one[24...].allSatisfy { $0 == 0 })
        one.withUnsafeBytes { bytes in
            #expect(SharedLogRecords.record(1, in: bytes) == nil, "no id")
            #expect(SharedLogRecords.record(0, in: bytes) != nil)
        }
    }

    @Test func theInMemoryLogPassesTheConformanceChecks() {
        #expect(SharedLogConformance.failures(of: InMemorySharedLog(), timeoutMilliseconds: 1_000) == [])
        #expect(SharedLogConformance.spikeFailures(of: InMemorySharedLog(), timeoutMilliseconds: 1_000) == [])
    }

    @Test func decisionsFollowTheContract() {
        let records = SharedLogRecords(key0: 5, key1: 6)
        func request(_ ids: [(String, Int64)], known: [Int] = []) -> SharedLogRequest {
            let transactions = ids.map { transaction($0.0.isEmpty ? nil : $0.0, "i", "s", cents: $0.1) }
            return SharedLogRequest(transactions: transactions, records: records.records(of: transactions), knownDuplicates: known)
        }
        let old = request([("old", 1), ("older", 1)])
        let following = [
            SharedLogEntry(position: SharedLogPosition(high: 0, low: 1), payload: [], skip: SharedLogSkipSet(), records: old.records)
        ]
        let requests = [
            request([("a", 1), ("a", 1), ("", 1), ("", 1)]),  // in-request duplicate; no ids
            request([("b", 1), ("old", 2)]),  // conflict: refused, "b" not remembered
            request([("a", 1), ("b", 1)]),  // "a" from request 0 counts as stored
            request([("a", 2)]),  // conflict with request 0
            SharedLogRequest.message,
            request([("c", 1), ("older", 1)], known: [0]),  // a known duplicate, one found in the following entry
        ]
        let decision = InMemorySharedLog.decide(SharedLogGroup(payload: [], requests: requests), following: following[...])
        #expect(
            decision.outcomes == [
                .accepted(duplicates: 1), .conflict(indices: [1]), .accepted(duplicates: 1), .conflict(indices: [0]),
                .accepted(duplicates: 0), .accepted(duplicates: 2),
            ])
        #expect(decision.skip.text == "0.1 1 2.0 3 5.0 5.1")
        #expect(decision.records == requests[0].records + requests[2].records + requests[5].records, "the records of the requests kept")
        #expect(decision.applies)
        let nothing = InMemorySharedLog.decide(SharedLogGroup(payload: [], requests: [request([("old", 1)])]), following: following[...])
        #expect(nothing.outcomes == [.accepted(duplicates: 1)] && !nothing.applies)
        // Nothing after the position and no repeats: nothing is looked up.
        let unchecked = InMemorySharedLog.decide(
            SharedLogGroup(payload: [], requests: [request([("a", 1), ("a", 1)])], repeatsIds: false), following: [])
        #expect(unchecked.outcomes == [.accepted(duplicates: 0)])
    }
}
