/// The transactions of one request (or journal entry), read in place, one field at a time.
///
/// Every reader of a whole batch on the broker's and the journal's threads goes through this
/// type, because of what a copy of a transaction costs there: binding one (`for transaction in
/// array`, or passing it to any call that takes a `Transaction`, even as `borrowing`) retains its
/// `id`, `investorId` and `syndicateId` strings, and releases them after. The event loop that
/// decoded the request wrote those reference counts on another core, so each retain and release
/// is a cache miss on the reader's core: ~2% of the server's CPU on the broker (Monitor's apply)
/// and ~2.5% on the journal thread (the payload encoder) under NDJSON ingest (perf); the encoder
/// reading in place took 2–7% less server CPU per transaction in durable NDJSON ingest.
///
/// So this type hands out fields, never transactions: each accessor loads one stored field of the
/// element in place, through a pointer that never leaves this type (`element(_:_:)`), after
/// checking the index. Strings are lent to a closure (``withIdentifierUTF8(at:_:)``) rather than
/// returned. ``copy(at:)`` is the one way out of a whole transaction, for cold paths (an alert, a
/// conflict message). Benchmarks: `syndicast-microbench 15 broker` (the broker's commit path,
/// Monitor's apply included) and `syndicast-microbench 21 journal` (the encoder, the digests).
public struct TransactionBatch: Sendable {
    /// The transactions, in order (for storing or handing on the batch as a whole).
    public let transactions: [Transaction]
    /// Number of transactions.
    public let count: Int

    /// A view of `transactions`: shares the array's storage.
    @inlinable
    public init(_ transactions: [Transaction]) {
        self.transactions = transactions
        count = transactions.count
    }

    /// Whether the batch is empty.
    @inlinable public var isEmpty: Bool { transactions.isEmpty }
    /// `0..<count`.
    @inlinable public var indices: Range<Int> { transactions.indices }

    /// The transaction at `index`, copied out (its strings retained): for cold paths only.
    public func copy(at index: Int) -> Transaction { transactions[index] }

    /// `read` with the transaction at `index`, in place: the one unsafe read, used only by this
    /// type's accessors (internal so that they can be inlined). The index is checked against `count`,
    /// a stored copy of the array's: the encoder's raw stores may alias the array's header, so
    /// the array's own bounds check reloaded its count from memory on every read (6–7% of
    /// `JournalPayloadCodec.encode` in `syndicast-microbench 21 journal`).
    @inlinable @inline(__always)
    func element<Result>(_ index: Int, _ read: (UnsafePointer<Transaction>) -> Result) -> Result {
        precondition(UInt(bitPattern: index) < UInt(bitPattern: count), "TransactionBatch index out of range")
        return transactions.withUnsafeBufferPointer { read($0.baseAddress.unsafelyUnwrapped + index) }
    }

    /// The amount of the transaction at `index`.
    @inlinable @inline(__always)
    public func amount(at index: Int) -> Money { element(index) { $0.pointee.amount } }

    /// The timestamp of the transaction at `index`.
    @inlinable @inline(__always)
    public func timestamp(at index: Int) -> Int64 { element(index) { $0.pointee.timestamp } }

    /// Whether the transaction at `index` has an `id`.
    @inlinable @inline(__always)
    public func hasIdentifier(at index: Int) -> Bool { element(index) { $0.pointee.id != nil } }

    /// `body` with the UTF-8 bytes of the `id` of the transaction at `index`; nil if it has none.
    @inlinable @inline(__always)
    public func withIdentifierUTF8<Result>(at index: Int, _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result? {
        element(index) { $0.pointee.id?.withUTF8Bytes(body) }
    }

    /// `body` with the UTF-8 bytes of the `investorId` of the transaction at `index`.
    @inlinable @inline(__always)
    public func withInvestorUTF8<Result>(at index: Int, _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        element(index) { $0.pointee.investor.value.withUTF8Bytes(body) }
    }

    /// `body` with the UTF-8 bytes of the `syndicateId` of the transaction at `index`.
    @inlinable @inline(__always)
    public func withSyndicateUTF8<Result>(at index: Int, _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        element(index) { $0.pointee.syndicate.value.withUTF8Bytes(body) }
    }

    /// `body` with the keyed `investorId` of the transaction at `index` (for ``Rankings``).
    @inline(__always)
    func withInvestor<Result>(at index: Int, _ body: (KeyedIdentifier) -> Result) -> Result {
        element(index) { body($0.pointee.investor) }
    }

    /// `body` with the keyed `syndicateId` of the transaction at `index` (for ``Rankings``).
    @inline(__always)
    func withSyndicate<Result>(at index: Int, _ body: (KeyedIdentifier) -> Result) -> Result {
        element(index) { body($0.pointee.syndicate) }
    }

    /// The UTF-8 lengths of the `id` (0 if none), `investorId` and `syndicateId` at `index`.
    @inlinable @inline(__always)
    public func identifierByteCounts(at index: Int) -> (id: Int, investorId: Int, syndicateId: Int) {
        element(index) {
            ($0.pointee.id?.utf8.count ?? 0, $0.pointee.investor.value.utf8.count, $0.pointee.syndicate.value.utf8.count)
        }
    }

    /// A fingerprint of what "the same content" means for a re-sent `id`: investor, syndicate and
    /// amount (the timestamp is left out: a retry without one is stamped with a new receive
    /// time). Per process: it mixes the identifiers' keys, which are keyed SipHash of their bytes
    /// (``KeyedIdentifier``), so no string is hashed again.
    @inlinable @inline(__always)
    public func contentFingerprint(at index: Int) -> Int {
        element(index) { transaction in
            let cents = UInt64(bitPattern: transaction.pointee.amount.cents) &* 0x9E37_79B9_7F4A_7C15
            let mixed =
                UInt(bitPattern: transaction.pointee.investor.key)
                ^ (UInt(bitPattern: transaction.pointee.syndicate.key) &* 0xFF51_AFD7_ED55_8CCD)
            return Int(bitPattern: mixed ^ UInt(cents ^ (cents >> 29)))
        }
    }
}
