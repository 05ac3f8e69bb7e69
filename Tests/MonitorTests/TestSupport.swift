import Monitor

/// A fixed "time received" for decoder tests: 2026-11-27T10:00:00.000Z.
let receivedAt: Int64 = 1_795_773_600_000

/// Decodes `text` with default limits.
func decode(
    _ text: String, format: TransactionDecoder.Format = .json, decoder: TransactionDecoder = TransactionDecoder()
) -> Result<[Transaction], TransactionValidationError> {
    decoder.decode(text, format: format, receivedAt: receivedAt)
}

/// The transactions, or `nil` on error.
func transactions(_ text: String, format: TransactionDecoder.Format = .json) -> [Transaction]? {
    try? decode(text, format: format).get()
}

/// The error, or `nil` on success.
func failure(
    _ text: String, format: TransactionDecoder.Format = .json, decoder: TransactionDecoder = TransactionDecoder()
) -> TransactionValidationError? {
    if case .failure(let error) = decode(text, format: format, decoder: decoder) { return error }
    return nil
}

/// The reasons reported for `field`.
func reasons(_ text: String, field: String, format: TransactionDecoder.Format = .json) -> [String] {
    failure(text, format: format)?.details.filter { $0.field == field }.map(\.reason) ?? []
}

/// A minimal valid object with one field replaced by `fieldJSON` (e.g. `"amount":-1`).
func object(replacing field: String, with fieldJSON: String?) -> String {
    var fields: [(String, String)] = [
        ("id", "\"id\":\"t1\""), ("investorId", "\"investorId\":\"i1\""),
        ("syndicateId", "\"syndicateId\":\"s1\""), ("amount", "\"amount\":\"100.00\""),
        ("timestamp", "\"timestamp\":1764237600000"),
    ]
    if let index = fields.firstIndex(where: { $0.0 == field }) {
        if let fieldJSON { fields[index].1 = fieldJSON } else { fields.remove(at: index) }
    }
    return "{" + fields.map(\.1).joined(separator: ",") + "}"
}

/// A transaction for domain tests.
func transaction(
    _ investorId: String, _ syndicateId: String, cents: Int64, at timestamp: Int64 = 0, id: String? = nil
) -> Transaction {
    Transaction(id: id, investorId: investorId, syndicateId: syndicateId, amount: Money(cents: cents), timestamp: timestamp)
}
