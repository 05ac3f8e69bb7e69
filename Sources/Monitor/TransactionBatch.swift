/// The transactions of one request (or journal entry), read in place, one field at a time.
///
/// Every reader of a whole batch on the broker's and the journal's threads goes through this
/// type, because of what a copy of a transaction costs there: binding one (`for transaction in
/// array`, or passing it to any call that takes a `Transaction`, even as `borrowing`) retains its
/// `id`, `investorId` and `syndicateId` strings, and releases them after. The event loop that
/// decoded the request wrote those reference counts on another core, so each retain and release
/// is a cache miss on the reader's core: ~2% of the server's CPU on the broker (TransactionMonitor's apply)
/// and ~2.5% on the journal thread (the payload encoder) under NDJSON ingest (perf); the encoder
/// reading in place took 2–7% less server CPU per transaction in durable NDJSON ingest.
///
/// So this type hands out fields, never transactions: ``forEach(_:)`` walks the batch and lends
/// each transaction as ``Fields``, whose accessors load one stored field in place. Strings are
/// lent to a closure (``Fields/withIdentifierUTF8(_:)``) rather than returned. ``copy(at:)`` and
/// ``Fields/copy()`` are the ways out of a whole transaction, for cold paths (an alert, a
/// conflict message). Benchmarks: `syndicast-microbench 15 broker` (the broker's commit path,
/// TransactionMonitor's apply included) and `syndicast-microbench 21 journal` (the encoder, the digests).
public struct TransactionBatch: Sendable {
    /// The transactions, in order (for storing or handing on the batch as a whole).
    public let transactions: [Transaction]

    /// A view of `transactions`: shares the array's storage.
    @inlinable
    public init(_ transactions: [Transaction]) {
        self.transactions = transactions
    }

    /// Number of transactions.
    @inlinable public var count: Int { transactions.count }
    /// Whether the batch is empty.
    @inlinable public var isEmpty: Bool { transactions.isEmpty }

    /// The transaction at `index`, copied out (its strings retained): for cold paths only.
    public func copy(at index: Int) -> Transaction { transactions[index] }

    /// Calls `body` with each transaction's index and fields, in order.
    ///
    /// The fields are read through a pointer into the array's storage, valid only during this
    /// call: a ``Fields`` value must not be kept past it (it may be kept within it, as the
    /// journal encoder keeps the previous transaction's). Indices come from the loop, so no
    /// read is out of bounds; the array's own subscript would check each read against a count
    /// reloaded from memory (the encoder's raw stores may alias the array's header), +4% of
    /// `JournalPayloadCodec.encode`'s instructions (callgrind, `syndicast-microbench 3 journal`).
    @inlinable @inline(__always)
    public func forEach(_ body: (_ index: Int, _ transaction: Fields) -> Void) {
        transactions.withUnsafeBufferPointer { buffer in
            guard let first = buffer.baseAddress else { return }
            for index in 0..<buffer.count { body(index, Fields(first + index)) }
        }
    }

    /// One transaction of a batch being walked by ``TransactionBatch/forEach(_:)``, read in place.
    public struct Fields {
        @usableFromInline let transaction: UnsafePointer<Transaction>

        @inlinable @inline(__always)
        init(_ transaction: UnsafePointer<Transaction>) { self.transaction = transaction }

        /// The transaction, copied out (its strings retained): for cold paths only.
        public func copy() -> Transaction { transaction.pointee }

        /// The amount.
        @inlinable public var amount: Money { transaction.pointee.amount }

        /// The timestamp.
        @inlinable public var timestamp: Int64 { transaction.pointee.timestamp }

        /// Whether the transaction has an `id`.
        @inlinable public var hasIdentifier: Bool { transaction.pointee.id != nil }

        /// The keyed `investorId` (for ``Rankings``).
        @inlinable var investor: KeyedIdentifier {
            _read { yield transaction.pointee.investor }
        }

        /// The keyed `syndicateId` (for ``Rankings``).
        @inlinable var syndicate: KeyedIdentifier {
            _read { yield transaction.pointee.syndicate }
        }

        /// `body` with the UTF-8 bytes of the `id`; nil if there is none.
        @inlinable @inline(__always)
        public func withIdentifierUTF8<Result>(_ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result? {
            transaction.pointee.id?.withUTF8Bytes(body)
        }

        /// `body` with the UTF-8 bytes of the `investorId`.
        @inlinable @inline(__always)
        public func withInvestorUTF8<Result>(_ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
            transaction.pointee.investor.value.withUTF8Bytes(body)
        }

        /// `body` with the UTF-8 bytes of the `syndicateId`.
        @inlinable @inline(__always)
        public func withSyndicateUTF8<Result>(_ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
            transaction.pointee.syndicate.value.withUTF8Bytes(body)
        }

        /// The UTF-8 lengths of the `id` (0 if none), `investorId` and `syndicateId`.
        @inlinable public var identifierByteCounts: (id: Int, investorId: Int, syndicateId: Int) {
            (
                transaction.pointee.id?.utf8.count ?? 0, transaction.pointee.investor.value.utf8.count,
                transaction.pointee.syndicate.value.utf8.count
            )
        }

        /// A fingerprint of what "the same content" means for a re-sent `id`: investor, syndicate
        /// and amount (the timestamp is left out: a retry without one is stamped with a new receive
        /// time). Per process: it mixes the identifiers' keys, which are keyed SipHash of their
        /// bytes (``KeyedIdentifier``), so no string is hashed again.
        @inlinable public var contentFingerprint: Int {
            let cents = UInt64(bitPattern: transaction.pointee.amount.cents) &* 0x9E37_79B9_7F4A_7C15
            let mixed =
                UInt(bitPattern: transaction.pointee.investor.key)
                ^ (UInt(bitPattern: transaction.pointee.syndicate.key) &* 0xFF51_AFD7_ED55_8CCD)
            return Int(bitPattern: mixed ^ UInt(cents ^ (cents >> 29)))
        }
    }
}
