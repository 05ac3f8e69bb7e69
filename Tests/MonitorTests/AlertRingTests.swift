import Testing

@testable import Monitor

@Suite("AlertRing: the most recent alerts, newest first")
struct AlertRingTests {
    static func alert(_ number: Int) -> Alert {
        Alert(
            id: "a-\(number)", syndicateId: "s1", investorId: "i1", transactionId: nil,
            details: .amountThreshold(amount: Money(cents: 2_000_000), threshold: Money(cents: 1_000_000)),
            at: Int64(number))
    }

    @Test("keeps the last `capacity` alerts and returns them newest first, up to the limit")
    func keepsTheNewest() {
        var ring = AlertRing(capacity: 3)
        #expect(ring.newest(5).isEmpty)
        for number in 1...2 { ring.append(Self.alert(number)) }
        #expect(ring.newest(5).map(\.id) == ["a-2", "a-1"])
        for number in 3...7 { ring.append(Self.alert(number)) }
        #expect(ring.count == 3)
        #expect(ring.newest(5).map(\.id) == ["a-7", "a-6", "a-5"])
        #expect(ring.newest(2).map(\.id) == ["a-7", "a-6"])
        #expect(ring.newest(0).isEmpty && ring.newest(-1).isEmpty)
    }

    @Test("a zero capacity keeps nothing")
    func zeroCapacity() {
        var ring = AlertRing(capacity: 0)
        ring.append(Self.alert(1))
        #expect(ring.count == 0 && ring.newest(3).isEmpty)
    }
}
