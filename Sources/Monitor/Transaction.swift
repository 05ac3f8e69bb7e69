/// One investment: an investor put `amount` into a syndicate at `timestamp`.
///
/// DESIGN.md §3 "Transaction fields": `id` (optional idempotency key), `investorId`, `syndicateId`
/// (non-empty strings, at most 128 bytes), `amount` (> 0, exact cents), `timestamp` (epoch ms).
/// ``TransactionDecoder`` enforces these rules; this type stores whatever it is given.
///
/// The investor and syndicate ids are stored with their ``IdentifierTable`` keys
/// (``KeyedIdentifier``), computed by the initializers from the ids themselves: for ingest that
/// is on an event loop, so the broker's ``Rankings`` lookups need no string hashing.
public struct Transaction: Sendable, Hashable {
    /// The longest accepted `id`, `investorId` or `syndicateId`, in UTF-8 bytes.
    public static let maximumIdentifierBytes = 128

    /// The optional idempotency key chosen by the sender.
    public var id: String?
    /// Who invested, with its key.
    @usableFromInline let investor: KeyedIdentifier
    /// Where the money went, with its key.
    @usableFromInline let syndicate: KeyedIdentifier
    /// How much, in exact cents.
    public var amount: Money
    /// The event time in milliseconds since 1970-01-01T00:00:00Z.
    public var timestamp: Int64

    /// Who invested.
    ///
    /// Yielded in place (`_read`), not returned: a getter's copy retains and releases the
    /// string, which the decoding event loop allocated, on every read by the broker (the
    /// retained-bytes sum per `transaction` event), a cache miss each, which makes the broker's
    /// commit path 10–25% slower (`syndicast-microbench 21 broker`).
    @inlinable public var investorId: String {
        _read { yield investor.value }
    }
    /// Where the money went (yielded in place, as `investorId`).
    @inlinable public var syndicateId: String {
        _read { yield syndicate.value }
    }

    /// Creates a transaction from already-validated values.
    public init(id: String? = nil, investorId: String, syndicateId: String, amount: Money, timestamp: Int64) {
        self.init(
            id: id, investor: KeyedIdentifier(investorId), syndicate: KeyedIdentifier(syndicateId), amount: amount,
            timestamp: timestamp)
    }

    /// Creates a transaction from identifiers already keyed (the decoder's path).
    init(id: String?, investor: KeyedIdentifier, syndicate: KeyedIdentifier, amount: Money, timestamp: Int64) {
        self.id = id
        self.investor = investor
        self.syndicate = syndicate
        self.amount = amount
        self.timestamp = timestamp
    }
}
