/// One investment: an investor put `amount` into a syndicate at `timestamp`.
///
/// DESIGN.md §3 "Transaction fields": `id` (optional idempotency key), `investorId`, `syndicateId`
/// (non-empty strings, at most 128 bytes), `amount` (> 0, exact cents), `timestamp` (epoch ms).
/// ``TransactionDecoder`` enforces these rules; this type stores whatever it is given.
public struct Transaction: Sendable, Hashable {
    /// The longest accepted `id`, `investorId` or `syndicateId`, in UTF-8 bytes.
    public static let maximumIdentifierBytes = 128

    /// The optional idempotency key chosen by the sender.
    public var id: String?
    /// Who invested.
    public let investorId: String
    /// Where the money went.
    public let syndicateId: String
    /// How much, in exact cents.
    public var amount: Money
    /// The event time in milliseconds since 1970-01-01T00:00:00Z.
    public var timestamp: Int64
    /// `investorId`'s hash, computed when the transaction is built: for ingest that is on an event
    /// loop, so the broker's ``Rankings`` lookups need no string hashing (see ``IdentifierTable``).
    public let investorKey: Int
    /// `syndicateId`'s hash, computed when the transaction is built (see `investorKey`).
    public let syndicateKey: Int

    /// Creates a transaction from already-validated values.
    public init(id: String? = nil, investorId: String, syndicateId: String, amount: Money, timestamp: Int64) {
        self.init(
            id: id, investorId: investorId, investorKey: IdentifierTable.key(investorId), syndicateId: syndicateId,
            syndicateKey: IdentifierTable.key(syndicateId), amount: amount, timestamp: timestamp)
    }

    /// Creates a transaction whose identifier keys were computed from the identifiers' bytes (the
    /// decoder's path); each key must equal `IdentifierTable.key` of its identifier.
    init(
        id: String?, investorId: String, investorKey: Int, syndicateId: String, syndicateKey: Int, amount: Money,
        timestamp: Int64
    ) {
        self.id = id
        self.investorId = investorId
        self.syndicateId = syndicateId
        self.amount = amount
        self.timestamp = timestamp
        self.investorKey = investorKey
        self.syndicateKey = syndicateKey
    }
}
