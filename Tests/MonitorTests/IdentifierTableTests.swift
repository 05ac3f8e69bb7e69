import Testing

@testable import Monitor

/// The id → ordinal table of ``Rankings`` and ``TransactionMonitor``, against a `Dictionary` model.
@Suite("IdentifierTable: ids numbered in order of first sight")
struct IdentifierTableTests {
    @Test func numbersIdsInOrderAndFindsThemAgainAcrossGrowth() {
        var table = IdentifierTable()
        var model: [String: Int32] = [:]
        for round in 0..<3 {
            for number in 0..<5_000 {
                let id = "investor-\(number % (1_000 * (round + 1)))"
                let expected = model[id] ?? Int32(model.count)
                model[id] = expected
                #expect(table.insert(KeyedIdentifier(id)) == expected)
            }
        }
        #expect(table.count == model.count)
        for (id, ordinal) in model {
            #expect(table.ordinal(of: KeyedIdentifier(id)) == ordinal)
            #expect(table.identifiers[Int(ordinal)] == id)
        }
        #expect(table.ordinal(of: KeyedIdentifier("never-seen")) == nil)
    }

    @Test func idsWithEqualKeysStayApart() {
        // Equal keys (hence equal tags and home slots) must be told apart by the strings themselves.
        // Forged keys stay valid only until the table grows (it recomputes keys), so 8 ids: the
        // table's first 16 slots hold 8 before it grows.
        var table = IdentifierTable()
        let ids = (0..<8).map { "s\($0)" }
        for (index, id) in ids.enumerated() {
            #expect(table.insert(KeyedIdentifier(forTesting: id, key: 42)) == Int32(index))
        }
        for (index, id) in ids.enumerated() {
            #expect(table.ordinal(of: KeyedIdentifier(forTesting: id, key: 42)) == Int32(index))
        }
        #expect(table.ordinal(of: KeyedIdentifier(forTesting: "s8", key: 42)) == nil)
    }

    @Test func transactionsCarryTheKeysOfTheirIds() {
        let transaction = Transaction(investorId: "inv-1", syndicateId: "syn-1", amount: Money(cents: 1), timestamp: 0)
        #expect(transaction.investor.key == KeyedIdentifier("inv-1").key)
        #expect(transaction.syndicate.key == KeyedIdentifier("syn-1").key)
        #expect(transaction.investor.key == Int(bitPattern: UInt(KeyedHash.process.hash("inv-1"))))
    }
}
