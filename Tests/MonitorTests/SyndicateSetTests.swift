import Testing

@testable import Monitor

/// The per-investor syndicate set against `Set<Int32>`: same membership answers and count, in the
/// inline bits (ordinals below 128), in the sorted array above them, and across the switch from the
/// sorted array to hashing.
@Suite("SyndicateSet: sorted array, then a hash set")
struct SyndicateSetTests {
    @Test(arguments: [Int32(40), 200, 3_000])
    func agreesWithASetModel(range: Int32) {
        var set = SyndicateSet()
        var model = Set<Int32>()
        var state: UInt64 = 0x1234_5678
        for _ in 0..<6_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let ordinal = Int32(truncatingIfNeeded: state >> 33) % range
            let modelInserted = model.insert(abs(ordinal)).inserted
            #expect(set.insert(abs(ordinal)) == modelInserted)
            #expect(set.count == model.count)
        }
        #expect(Set(set.members) == model)
        #expect(set.members.count == model.count, "no member is stored twice")
    }

    @Test func rankingsReportSyndicateIdsByNameAfterInterning() {
        var rankings = Rankings(topCount: 2)
        for (investor, syndicate) in [("a", "s2"), ("b", "s1"), ("a", "s1"), ("a", "s2"), ("b", "s3")] {
            _ = try? rankings.apply(
                Transaction(id: nil, investorId: investor, syndicateId: syndicate, amount: Money(cents: 100), timestamp: 0))
        }
        #expect(rankings.investor("a")?.syndicateIds == ["s1", "s2"])
        #expect(rankings.investor("b")?.syndicateIds == ["s1", "s3"])
        #expect(rankings.leaderboard.map(\.syndicateCount) == [2, 2])
    }

    @Test func branchFreeLowerBoundAgreesWithALinearScan() {
        for length in 0...9 {
            let sorted = (0..<length).map { Int32($0 * 2) }
            for probe in Int32(-1)...Int32(2 * length + 1) {
                let expected = sorted.firstIndex { $0 >= probe } ?? sorted.count
                #expect(SyndicateSet.lowerBound(of: probe, in: sorted) == expected, "length \(length), probe \(probe)")
            }
        }
    }
}
