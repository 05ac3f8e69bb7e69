import Testing

@testable import Monitor

/// ``TransactionBatch``: the in-place field reads agree with the transactions they read.
@Suite("TransactionBatch: fields read in place")
struct TransactionBatchTests {
    static let batch = TransactionBatch([
        Transaction(
            id: "order-2026-000123", investorId: "investor-with-a-long-name", syndicateId: "s1", amount: Money(cents: 250),
            timestamp: 7),
        Transaction(investorId: "i2", syndicateId: "syndicate-é", amount: Money(cents: 1), timestamp: -3),
        Transaction(id: "order-2026-000124", investorId: "i3", syndicateId: "s1", amount: Money(cents: 9), timestamp: 8),
    ])

    @Test func forEachVisitsEveryTransactionInOrderWithItsFields() {
        let batch = Self.batch
        var visited: [Int] = []
        batch.forEach { index, fields in
            visited.append(index)
            let transaction = batch.copy(at: index)
            #expect(fields.copy() == transaction)
            #expect(fields.amount == transaction.amount)
            #expect(fields.timestamp == transaction.timestamp)
            #expect(fields.hasIdentifier == (transaction.id != nil))
            #expect(fields.withIdentifierUTF8 { Array($0) } == transaction.id.map { Array($0.utf8) })
            #expect(fields.withInvestorUTF8 { Array($0) } == Array(transaction.investorId.utf8))
            #expect(fields.withSyndicateUTF8 { Array($0) } == Array(transaction.syndicateId.utf8))
            #expect(fields.investor == transaction.investor && fields.syndicate == transaction.syndicate)
            let counts = fields.identifierByteCounts
            #expect(counts.id == (transaction.id?.utf8.count ?? 0))
            #expect(counts.investorId == transaction.investorId.utf8.count)
            #expect(counts.syndicateId == transaction.syndicateId.utf8.count)
        }
        #expect(visited == [0, 1, 2])
        var none = 0
        TransactionBatch([]).forEach { _, _ in none += 1 }
        #expect(none == 0)
    }

    @Test func contentFingerprintIsInvestorSyndicateAndAmount() {
        func fingerprint(_ id: String?, _ investor: String, _ syndicate: String, _ cents: Int64, at time: Int64) -> Int {
            var result = 0
            TransactionBatch([
                Transaction(id: id, investorId: investor, syndicateId: syndicate, amount: Money(cents: cents), timestamp: time)
            ]).forEach { _, fields in result = fields.contentFingerprint }
            return result
        }
        let base = fingerprint("t1", "i1", "s1", 100, at: 0)
        #expect(fingerprint("t2", "i1", "s1", 100, at: 99) == base, "id and timestamp are not content")
        #expect(fingerprint("t1", "i2", "s1", 100, at: 0) != base)
        #expect(fingerprint("t1", "i1", "s2", 100, at: 0) != base)
        #expect(fingerprint("t1", "i1", "s1", 101, at: 0) != base)
        #expect(fingerprint("t1", "s1", "i1", 100, at: 0) != base, "investor and syndicate are not interchangeable")
    }

    @Test func decodedAndBuiltTransactionsFindTheSameOrdinals() throws {
        // The keys come from the ids' bytes whichever way a transaction is made, so a table
        // filled by one finds the other (escaped, non-ASCII and plain spellings).
        let decoded = try #require(transactions(#"{"investorId":"\u00e9t\u00e9","syndicateId":"s\/1","amount":1}"#))
        var table = IdentifierTable()
        let ordinal = table.insert(decoded[0].investor)
        let built = Transaction(investorId: "été", syndicateId: "s/1", amount: Money(cents: 1), timestamp: 0)
        #expect(table.ordinal(of: built.investor) == ordinal)
        #expect(table.ordinal(of: KeyedIdentifier("été")) == ordinal)
    }
}
