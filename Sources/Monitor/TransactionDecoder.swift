/// Decodes transactions from a request body: one JSON object, a JSON array of objects, or NDJSON.
///
/// A specialised decoder for the transaction shape (DESIGN.md §5: `JSONDecoder` manages about
/// 160k objects/s/core, too slow for ingest). It works on the raw bytes, allocates only the
/// strings it keeps, and validates the whole body as JSON (RFC 8259), unknown fields included.
///
/// A batch is atomic: either every transaction is valid and all are returned, or an error lists
/// the problems (up to ``Limits/maximumDetails``) and none is returned.
///
/// - Field rules (DESIGN.md §3): `investorId`, `syndicateId` are required non-empty strings of at
///   most 128 UTF-8 bytes without control characters; `id` is optional (string or `null`, same
///   rules); `amount` is a JSON number or a decimal string, see ``Money/init(parsing:)``;
///   `timestamp` is optional: an RFC 3339 string (``RFC3339Timestamp``), an integer of epoch
///   milliseconds, or `null`; absent, it is `receivedAt`. Unknown fields are validated and ignored;
///   a known field that appears twice is an error.
/// - Domain bounds (``Limits``): `amount` at most ``Limits/maximumAmount``; `timestamp` at most
///   ``Limits/maximumClockSkewMilliseconds`` after `receivedAt` (earlier times are all valid).
/// - NDJSON: one object per line (`\n`, optionally `\r\n`); blank lines are skipped and do not
///   count as batch positions; every detail carries its 1-based line number; a line with invalid
///   JSON does not stop the others from being checked.
public struct TransactionDecoder: Sendable {
    /// How the body is framed.
    public enum Format: Sendable, Hashable {
        /// `application/json`: one object or an array of objects.
        case json
        /// `application/x-ndjson`: one object per line.
        case ndjson
    }

    /// Bounds checked before and while decoding, so no body can exhaust memory or stack.
    public struct Limits: Sendable, Hashable {
        /// Larger bodies are rejected with `payload_too_large` before any parsing.
        public var maximumBodyBytes: Int
        /// Deepest accepted nesting of arrays and objects (the batch array counts).
        public var maximumDepth: Int
        /// Most transactions in one batch.
        public var maximumTransactions: Int
        /// Most details kept in one error (the message still counts all problems).
        public var maximumDetails: Int
        /// Larger amounts are refused (`--max-amount`).
        public var maximumAmount: Money
        /// Event times more than this many milliseconds after `receivedAt` are refused
        /// (`--max-clock-skew`); `nil` accepts any time (the `syndicast rank` job, which has no
        /// receive time and does not use event times).
        public var maximumClockSkewMilliseconds: Int64?

        /// One trillion (10^14 cents): above any single real investment (the largest venture
        /// rounds are tens of billions), so only typos and garbage are refused, while a sum of
        /// such amounts stays exact in a 128-bit total (``MoneyTotal``) for any number of them.
        public static let defaultMaximumAmount = Money(cents: 100_000_000_000_000)
        /// Five minutes: clocks of healthy hosts agree far better (NTP keeps them within
        /// milliseconds), while a time a year ahead would keep a syndicate's spike window from
        /// ever counting the present (DESIGN.md §4).
        public static let defaultMaximumClockSkewMilliseconds: Int64 = 300_000

        /// Creates limits; the defaults match DESIGN.md §6 (8 MiB body).
        public init(
            maximumBodyBytes: Int = 8 << 20, maximumDepth: Int = 32,
            maximumTransactions: Int = 1 << 20, maximumDetails: Int = 100,
            maximumAmount: Money = Limits.defaultMaximumAmount,
            maximumClockSkewMilliseconds: Int64? = Limits.defaultMaximumClockSkewMilliseconds
        ) {
            self.maximumBodyBytes = maximumBodyBytes
            self.maximumDepth = maximumDepth
            self.maximumTransactions = maximumTransactions
            self.maximumDetails = maximumDetails
            self.maximumAmount = maximumAmount
            self.maximumClockSkewMilliseconds = maximumClockSkewMilliseconds
        }

        /// The latest event time accepted in a body received at `receivedAt` (saturating).
        func latestTimestamp(receivedAt: Int64) -> Int64 {
            guard let skew = maximumClockSkewMilliseconds else { return .max }
            let (latest, overflow) = receivedAt.addingReportingOverflow(max(skew, 0))
            return overflow ? .max : latest
        }

        /// The detail reason for an event time past ``latestTimestamp(receivedAt:)``.
        var clockSkewReason: String {
            let skew = max(maximumClockSkewMilliseconds ?? 0, 0)
            let amount = skew % 1000 == 0 ? "\(skew / 1000) s" : "\(skew) ms"
            return "is more than \(amount) ahead of the server's clock"
        }
    }

    /// The limits in force.
    public var limits: Limits

    /// Creates a decoder.
    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Decodes a whole body; `receivedAt` (epoch ms) is the timestamp of transactions without one.
    public func decode(
        _ body: UnsafeRawBufferPointer, format: Format, receivedAt: Int64
    ) -> Result<[Transaction], TransactionValidationError> {
        guard body.count <= limits.maximumBodyBytes else {
            return .failure(
                TransactionValidationError(
                    code: .payloadTooLarge,
                    message: "The body is \(body.count) bytes; the limit is \(limits.maximumBodyBytes)."))
        }
        var batch = TransactionBatchDecoder(body: body, limits: limits, receivedAt: receivedAt)
        switch format {
        case .json: batch.decodeJSON()
        case .ndjson: batch.decodeNDJSON()
        }
        return batch.result(format: format)
    }

    /// Decodes a body held in an array; see ``decode(_:format:receivedAt:)-(UnsafeRawBufferPointer,_,_)``.
    public func decode(
        _ body: [UInt8], format: Format, receivedAt: Int64
    ) -> Result<[Transaction], TransactionValidationError> {
        body.withUnsafeBytes { decode($0, format: format, receivedAt: receivedAt) }
    }

    /// Decodes a body held in a string (tests, command-line files).
    public func decode(
        _ body: String, format: Format, receivedAt: Int64
    ) -> Result<[Transaction], TransactionValidationError> {
        var copy = body
        return copy.withUTF8 { decode(UnsafeRawBufferPointer($0), format: format, receivedAt: receivedAt) }
    }
}
