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
    ])

    @Test func fieldsMatchTheTransactions() {
        let batch = Self.batch
        #expect(batch.count == 2 && batch.indices == 0..<2 && !batch.isEmpty)
        for index in batch.indices {
            let transaction = batch.copy(at: index)
            #expect(batch.amount(at: index) == transaction.amount)
            #expect(batch.timestamp(at: index) == transaction.timestamp)
            #expect(batch.hasIdentifier(at: index) == (transaction.id != nil))
            #expect(batch.withIdentifierUTF8(at: index) { Array($0) } == transaction.id.map { Array($0.utf8) })
            #expect(batch.withInvestorUTF8(at: index) { Array($0) } == Array(transaction.investorId.utf8))
            #expect(batch.withSyndicateUTF8(at: index) { Array($0) } == Array(transaction.syndicateId.utf8))
            let counts = batch.identifierByteCounts(at: index)
            #expect(counts.id == (transaction.id?.utf8.count ?? 0))
            #expect(counts.investorId == transaction.investorId.utf8.count)
            #expect(counts.syndicateId == transaction.syndicateId.utf8.count)
        }
    }

    @Test func contentFingerprintIsInvestorSyndicateAndAmount() {
        func fingerprint(_ id: String?, _ investor: String, _ syndicate: String, _ cents: Int64, at time: Int64) -> Int {
            TransactionBatch([
                Transaction(id: id, investorId: investor, syndicateId: syndicate, amount: Money(cents: cents), timestamp: time)
            ]).contentFingerprint(at: 0)
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

/// The one unsafe read of ``TransactionBatch`` checks its index: out of range stops the process
/// instead of reading past the array.
@Suite("TransactionBatch: index checks")
struct TransactionBatchIndexTests {
    @Test func anIndexPastTheEndTraps() async {
        await #expect(processExitsWith: .failure) {
            _ = TransactionBatch([]).amount(at: 0)
        }
        await #expect(processExitsWith: .failure) {
            let batch = TransactionBatch([
                Transaction(investorId: "i", syndicateId: "s", amount: Money(cents: 1), timestamp: 0)
            ])
            _ = batch.withInvestorUTF8(at: -1) { $0.count }
        }
    }
}
