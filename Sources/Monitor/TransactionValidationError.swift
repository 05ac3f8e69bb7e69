/// Why a request body was not accepted as a batch of transactions (an HTTP `400` or `413`).
///
/// The server answers it with DESIGN.md §3's error document (its `APIError`); each ``Detail``
/// writes its own `{"index":0,"line":1,"field":"amount","reason":…}`.
public struct TransactionValidationError: Error, Sendable, Hashable {
    /// The machine-readable class of the error.
    public enum Code: String, Sendable, Hashable {
        /// The body is not valid JSON (or an NDJSON line is not); nothing was accepted.
        case invalidJSON = "invalid_json"
        /// The JSON is well formed but some fields are missing or wrong; nothing was accepted.
        case invalidFields = "invalid_fields"
        /// The body exceeds a decoder limit (bytes or transactions per batch).
        case payloadTooLarge = "payload_too_large"
    }

    /// One problem in one transaction of the batch.
    public struct Detail: Sendable, Hashable {
        /// Position of the transaction in the batch, from 0 (blank NDJSON lines do not count).
        public var index: Int
        /// For NDJSON, the 1-based line number; `nil` for JSON bodies.
        public var line: Int?
        /// The offending field (`"amount"`), or `""` when the whole element is wrong.
        public var field: String
        /// A human-readable reason, e.g. `"must be greater than 0"`.
        public var reason: String

        /// Creates a detail.
        public init(index: Int, line: Int? = nil, field: String, reason: String) {
            self.index = index
            self.line = line
            self.field = field
            self.reason = reason
        }
    }

    /// The error class.
    public var code: Code
    /// A one-sentence summary for people.
    public var message: String
    /// Field-level problems, in batch order; at most ``TransactionDecoder/Limits/maximumDetails``.
    public var details: [Detail]

    /// Creates an error.
    public init(code: Code, message: String, details: [Detail] = []) {
        self.code = code
        self.message = message
        self.details = details
    }
}
