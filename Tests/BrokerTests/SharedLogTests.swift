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

    @Test func fingerprintsAreExactAndUnambiguous() {
        let key = SharedLogKey(transaction("t1", "ab", "c", cents: 5, at: 1))
        #expect(key.id == Array("t1".utf8))
        #expect(key.fingerprint == [0, 0, 0, 2, 97, 98, 0, 0, 0, 1, 99, 0, 0, 0, 0, 0, 0, 0, 5])
        #expect(SharedLogKey(transaction("t1", "ab", "c", cents: 5, at: 999)).fingerprint == key.fingerprint)
        #expect(SharedLogKey(transaction("t1", "a", "bc", cents: 5)).fingerprint != key.fingerprint)
        #expect(SharedLogKey(transaction("t1", "ab", "c", cents: 6)).fingerprint != key.fingerprint)
        #expect(SharedLogKey(transaction(nil, "ab", "c", cents: 5)).id.isEmpty)
        // What a log implementation writes is the same bytes.
        let request = SharedLogRequest(transactions: [transaction("t1", "ab", "c", cents: 5), transaction(nil, "x", "y", cents: 1)])
        var written: [SharedLogKey] = []
        request.forEachKey { id, fingerprint in written.append(SharedLogKey(id: Array(id), fingerprint: Array(fingerprint))) }
        #expect(written == request.keys && written.first == key && written.last?.id == [])
    }

    @Test func theInMemoryLogPassesTheConformanceChecks() {
        #expect(SharedLogConformance.failures(of: InMemorySharedLog(), timeoutMilliseconds: 1_000) == [])
        #expect(SharedLogConformance.spikeFailures(of: InMemorySharedLog(), timeoutMilliseconds: 1_000) == [])
    }

    @Test func decisionsFollowTheContract() {
        func key(_ id: String, _ content: UInt8) -> SharedLogKey { SharedLogKey(id: Array(id.utf8), fingerprint: [content]) }
        let stored: [[UInt8]: [UInt8]] = [Array("old".utf8): [1]]
        let decision = InMemorySharedLog.decide(
            [
                [key("a", 1), key("a", 1), key("", 1), key("", 1)],  // in-request duplicate; no ids
                [key("b", 1), key("old", 2)],  // conflict: refused, "b" not remembered
                [key("a", 1), key("b", 1)],  // "a" from request 0 counts as stored
                [key("a", 2)],  // conflict with request 0
                [],  // a message
            ], stored: stored)
        #expect(
            decision.outcomes == [
                .accepted(duplicates: 1), .conflict(indices: [1]), .accepted(duplicates: 1), .conflict(indices: [0]),
                .accepted(duplicates: 0),
            ])
        #expect(decision.skip.text == "0.1 1 2.0 3")
        #expect(decision.accepted == [Array("a".utf8): [1], Array("b".utf8): [1]])
        #expect(decision.applies)
        let nothing = InMemorySharedLog.decide([[key("old", 1)]], stored: stored)
        #expect(nothing.outcomes == [.accepted(duplicates: 1)] && !nothing.applies)
    }
}
