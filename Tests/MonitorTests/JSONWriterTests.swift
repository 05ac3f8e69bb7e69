import Basics
import Monitor
import Testing

@Suite("JSON shapes (DESIGN.md §3)")
struct JSONWriterTests {
    @Test("ranking entry")
    func rankingEntry() {
        let entry = RankingEntry(rank: 1, investorId: "i1", syndicateCount: 3, totalInvested: MoneyTotal(cents: 1_250_000))
        #expect(entry.jsonString == #"{"rank":1,"investorId":"i1","syndicateCount":3,"totalInvested":"12500.00"}"#)
        var writer = JSONWriter()
        writer.appendArray([entry, entry])
        #expect(writer.string == "[" + entry.jsonString + "," + entry.jsonString + "]")
    }

    @Test("amount alert")
    func amountAlert() {
        let alert = Alert(
            id: "a-1", syndicateId: "s1", investorId: "i7", transactionId: "t9",
            details: .amountThreshold(amount: Money(cents: 2_500_000), threshold: Money(cents: 1_000_000)),
            at: 1_795_773_600_123)
        #expect(
            alert.jsonString
                == #"{"id":"a-1","rule":"amount_threshold","syndicateId":"s1","investorId":"i7","transactionId":"t9","amount":"25000.00","threshold":"10000.00","at":"2026-11-27T10:00:00.123Z"}"#
        )
    }

    @Test("spike alert, transaction without id")
    func spikeAlert() {
        let alert = Alert(
            id: "a-2", syndicateId: "s1", investorId: "i7", transactionId: nil,
            details: .syndicateSpike(count: 101, windowSeconds: 3600, threshold: 100), at: 0)
        #expect(
            alert.jsonString
                == #"{"id":"a-2","rule":"syndicate_spike","syndicateId":"s1","investorId":"i7","transactionId":null,"count":101,"windowSeconds":3600,"threshold":100,"at":"1970-01-01T00:00:00.000Z"}"#
        )
    }

    @Test("strings are escaped per RFC 8259 §7")
    func escaping() {
        var writer = JSONWriter()
        writer.appendString("a\"b\\c\n\r\t\u{8}\u{c}\u{0}\u{1f}é😀/")
        #expect(writer.string == #""a\"b\\c\n\r\t\b\f\u0000\u001fé😀/""#)
    }

    @Test("a transaction written as JSON decodes back to itself, hostile strings included")
    func transactionRoundTrip() throws {
        let original = Transaction(
            id: "t\"1\\", investorId: "inv é 😀 \u{7f}", syndicateId: "s/1", amount: Money(cents: 12_345),
            timestamp: 1_795_773_600_123)
        let decoded = try TransactionDecoder().decode(original.jsonBytes, format: .json, receivedAt: original.timestamp).get()
        #expect(decoded == [original])
        let withoutId = Transaction(investorId: "i", syndicateId: "s", amount: Money(cents: 1), timestamp: -5)
        #expect(withoutId.jsonString.hasPrefix(#"{"id":null,"#))
        #expect(try TransactionDecoder().decode(withoutId.jsonBytes, format: .ndjson, receivedAt: 0).get() == [withoutId])
    }

    @Test("error detail")
    func errorDetail() throws {
        let error = try #require(failure("{\"investorId\":\"i\",\"syndicateId\":\"s\",\"amount\":0}\n", format: .ndjson))
        #expect(error.message == "1 of 1 transactions are invalid (1 problems); nothing was accepted.")
        #expect(error.details.map(\.jsonString) == [#"{"index":0,"line":1,"field":"amount","reason":"must be greater than 0"}"#])
    }

    @Test("investor and syndicate summaries, counts")
    func summaries() {
        var monitor = TransactionMonitor()
        _ = monitor.apply(transaction("i1", "s2", cents: 100, at: 0))
        _ = monitor.apply(transaction("i1", "s1", cents: 50, at: 1))
        #expect(
            monitor.investor("i1")?.jsonString
                == #"{"investorId":"i1","rank":1,"syndicateCount":2,"totalInvested":"1.50","transactionCount":2,"syndicateIds":["s1","s2"]}"#
        )
        #expect(
            monitor.syndicate("s1")?.jsonString
                == #"{"syndicateId":"s1","windowCount":1,"windowSeconds":3600,"spikeThreshold":100,"spiking":false,"totalInvested":"0.50","transactionCount":1,"newestTimestamp":"1970-01-01T00:00:00.001Z"}"#
        )
        #expect(
            monitor.counts.jsonString
                == #"{"transactions":2,"rejected":0,"alerts":0,"amountAlerts":0,"spikeAlerts":0,"rankingChanges":2,"investors":1,"syndicates":2}"#
        )
    }
}
