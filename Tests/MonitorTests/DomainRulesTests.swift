import Basics
import Testing

@testable import Monitor

/// docs/DOMAIN-RULES.md: ids are their UTF-8 bytes; totals are 128-bit; amounts and event times
/// are bounded at decode.
@Suite("Domain rules: byte identity, 128-bit totals, amount and clock bounds")
struct DomainRulesTests {
    static let composed = "\u{E9}"  // é: C3 A9
    static let decomposed = "e\u{301}"  // e + combining acute: 65 CC 81

    @Test("byte comparisons: equality, code point order, prefixes, lengths past one word")
    func byteComparisons() {
        #expect(Self.composed == Self.decomposed)  // Swift's String: canonical equivalence
        #expect(!Self.composed.hasSameUTF8(as: Self.decomposed))
        #expect(Self.decomposed.utf8Precedes(Self.composed))
        #expect(!Self.composed.utf8Precedes(Self.decomposed))
        #expect("abc".hasSameUTF8(as: "abc") && !"abc".utf8Precedes("abc"))
        #expect("ab".utf8Precedes("abc") && !"abc".utf8Precedes("ab"))
        let long = String(repeating: "x", count: 20)
        #expect((long + "a").utf8Precedes(long + "b") && !(long + "a").hasSameUTF8(as: long + "b"))
        #expect((long + "a").hasSameUTF8(as: long + "a"))
        // Code point order, not UTF-16 order: U+FF5E (EF BD 9E) before U+1F600 (F0 9F 98 80).
        #expect("\u{FF5E}".utf8Precedes("\u{1F600}"))
        #expect(IdentifierBytes(Self.composed) != IdentifierBytes(Self.decomposed))
        #expect(Set([IdentifierBytes(Self.composed), IdentifierBytes(Self.decomposed)]).count == 2)
        #expect([IdentifierBytes(Self.composed), IdentifierBytes(Self.decomposed)].sorted().map(\.string.utf8.count) == [3, 2])
    }

    @Test("the identifier table numbers NFC and NFD apart even when their keys collide")
    func identifierTable() {
        var table = IdentifierTable()
        #expect(table.insert(KeyedIdentifier(forTesting: Self.composed, key: 7)) == 0)
        #expect(table.insert(KeyedIdentifier(forTesting: Self.decomposed, key: 7)) == 1)
        #expect(table.ordinal(of: KeyedIdentifier(forTesting: Self.decomposed, key: 7)) == 1)
        #expect(table.insert(KeyedIdentifier(Self.composed)) == 2)  // real keys differ
    }

    @Test("NFC and NFD investors: two rows, leaders, counts and summaries")
    func rankingsAndMonitor() {
        var monitor = TransactionMonitor(configuration: MonitorConfiguration(topK: 2))
        // Nine investors; the NFD spelling leads, the NFC one is second: the order NFD, NFC, others.
        for (index, investor) in (0..<7).map({ "i\($0)" }).enumerated() {
            _ = monitor.apply(transaction(investor, "s1", cents: Int64(10 + index)))
        }
        _ = monitor.apply(transaction(Self.composed, "s1", cents: 500))
        _ = monitor.apply(transaction(Self.decomposed, "s1", cents: 600))
        _ = monitor.apply(transaction(Self.decomposed, "s2", cents: 1))
        #expect(monitor.counts.investors == 9)
        #expect(monitor.counts.transactions == 10)
        #expect(monitor.leaderboard.map { Array($0.investorId.utf8) } == [Array(Self.decomposed.utf8), Array(Self.composed.utf8)])
        #expect(monitor.rankings(limit: 9).count == 9)
        #expect(monitor.rankings(limit: 5).map(\.totalInvested.description) == ["6.01", "5.00", "0.16", "0.15", "0.14"])
        #expect(monitor.investor(Self.composed)?.totalInvested == MoneyTotal(cents: 500))
        #expect(monitor.investor(Self.composed)?.rank == 2)
        #expect(monitor.investor(Self.decomposed)?.totalInvested == MoneyTotal(cents: 601))
        #expect(monitor.investor(Self.decomposed)?.rank == 1)
        // Ties are broken by bytes: equal counts and totals put NFD (65…) before NFC (C3…).
        var tied = Rankings(topCount: 1)
        _ = try? tied.apply(transaction(Self.composed, "s", cents: 1))
        _ = try? tied.apply(transaction(Self.decomposed, "s", cents: 1))
        #expect(tied.top(1).map { Array($0.investorId.utf8) } == [Array(Self.decomposed.utf8)])
        #expect(tied.top(2).map { Array($0.investorId.utf8) } == [Array(Self.decomposed.utf8), Array(Self.composed.utf8)])
        // Syndicate ids of a summary are sorted by bytes as well.
        _ = monitor.apply(transaction("multi", Self.composed, cents: 1))
        _ = monitor.apply(transaction("multi", Self.decomposed, cents: 1))
        _ = monitor.apply(transaction("multi", "z", cents: 1))
        #expect(
            monitor.investor("multi")?.syndicateIds.map { Array($0.utf8) } == [
                Array(Self.decomposed.utf8), Array("z".utf8), Array(Self.composed.utf8),
            ])
        #expect(monitor.syndicate(Self.composed)?.transactionCount == 1)
        #expect(monitor.syndicate(Self.decomposed)?.transactionCount == 1)
    }

    @Test(
        "128-bit totals format exactly",
        arguments: [
            (MoneyTotal.zero, "0.00"), (MoneyTotal(cents: 5), "0.05"), (MoneyTotal(cents: 1_250_000), "12500.00"),
            (MoneyTotal(cents: .max), "184467440737095516.15"), (MoneyTotal(high: 1, low: 0), "184467440737095516.16"),
            (MoneyTotal(high: .max, low: .max), "3402823669209384634633746074317682114.55"),
            (MoneyTotal(high: 5, low: 3), "922337203685477580.83"),  // 5·2^64 + 3 = 92233720368547758083
        ])
    func formatting(total: MoneyTotal, text: String) {
        #expect(total.description == text)
        var writer = JSONWriter()
        writer.appendMoney(total)
        #expect(writer.string == "\"" + text + "\"")
    }

    @Test("adding carries into the high word and orders by both words")
    func addition() {
        var total = MoneyTotal(cents: UInt64.max - 1)
        total.add(Money(cents: 3))
        #expect(total == MoneyTotal(high: 1, low: 1))
        #expect(MoneyTotal(cents: .max) < total && MoneyTotal(high: 1, low: 0) < total)
        total.add(Money(cents: 0))
        total.add(Money(cents: -5))
        #expect(total == MoneyTotal(high: 1, low: 1))
    }

    @Test("amounts above the configured maximum are refused; the maximum itself is accepted")
    func maximumAmount() throws {
        let decoder = TransactionDecoder(limits: .init(maximumAmount: Money(cents: 1_000)))
        let body = #"[{"investorId":"i","syndicateId":"s","amount":10},{"investorId":"i","syndicateId":"s","amount":"10.01"}]"#
        let error = try #require(failure(body, decoder: decoder))
        #expect(error.code == .invalidFields)
        #expect(error.details == [.init(index: 1, field: "amount", reason: "must be at most 10.00")])
        #expect(failure(#"{"investorId":"i","syndicateId":"s","amount":10}"#, decoder: decoder) == nil)
        // The default maximum is one trillion, and amounts past Int64 cents get the same reason.
        #expect(
            reasons(#"{"investorId":"i","syndicateId":"s","amount":1000000000000.01}"#, field: "amount") == [
                "must be at most 1000000000000.00"
            ])
        #expect(reasons(#"{"investorId":"i","syndicateId":"s","amount":1e300}"#, field: "amount") == ["must be at most 1000000000000.00"])
        #expect(transactions(#"{"investorId":"i","syndicateId":"s","amount":"1000000000000.00"}"#)?.count == 1)
    }

    @Test("event times more than the skew ahead of the receive time are refused; past times are valid")
    func clockSkew() throws {
        func body(_ timestamp: String) -> String { #"{"investorId":"i","syndicateId":"s","amount":1,"timestamp":"# + timestamp + "}" }
        let limit = receivedAt + 300_000
        #expect(transactions(body("\(limit)"))?.first?.timestamp == limit)
        #expect(reasons(body("\(limit + 1)"), field: "timestamp") == ["is more than 300 s ahead of the server's clock"])
        #expect(reasons(body(#""9999-12-31T23:59:59Z""#), field: "timestamp") == ["is more than 300 s ahead of the server's clock"])
        #expect(transactions(body(#""0001-01-01T00:00:00Z""#))?.count == 1)
        #expect(transactions(body("0"))?.count == 1)
        // Configurable; nil switches the rule off; a batch with one future time stores nothing.
        let strict = TransactionDecoder(limits: .init(maximumClockSkewMilliseconds: 1_500))
        let batch = [body("\(receivedAt)"), body("\(receivedAt + 1_501)")].joined(separator: "\n")
        let error = try #require(failure(batch, format: .ndjson, decoder: strict))
        #expect(error.details == [.init(index: 1, line: 2, field: "timestamp", reason: "is more than 1500 ms ahead of the server's clock")])
        let open = TransactionDecoder(limits: .init(maximumClockSkewMilliseconds: nil))
        #expect((try? decode(body(#""9999-12-31T23:59:59Z""#), decoder: open).get())?.count == 1)
        // A receive time near Int64.max saturates instead of trapping.
        #expect((try? TransactionDecoder().decode(body("1"), format: .json, receivedAt: .max).get())?.count == 1)
    }
}
