/// Why a transaction file (CSV, JSON array or NDJSON) could not be read; names the line.
///
/// Batch jobs stop at the first error (``RankingJob``): its ``description`` is the message a
/// command prints, e.g. `line 1234: amount: must be greater than 0`.
public struct TransactionFileError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The 1-based line where the offending record starts (the header is line 1 of a CSV file);
    /// `nil` when the problem is not tied to a line (an empty file).
    public var line: Int?
    /// The offending field (`"amount"`), or `nil` when the whole record or file is wrong.
    public var field: String?
    /// A human-readable reason, e.g. `"must be greater than 0"`.
    public var reason: String

    /// Creates an error.
    public init(line: Int?, field: String? = nil, reason: String) {
        self.line = line
        self.field = field
        self.reason = reason
    }

    /// `line 1234: amount: must be greater than 0`; the parts that are `nil` are left out.
    public var description: String {
        var text = ""
        if let line { text += "line \(line): " }
        if let field { text += "\(field): " }
        return text + reason
    }
}

/// `array.withUnsafeBytes(body)` keeping `body`'s typed error (the standard library's version
/// only rethrows `any Error`).
@inline(__always)
func withBytes<Result, Failure: Error>(
    of array: [UInt8], _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
) throws(Failure) -> Result {
    let outcome: Swift.Result<Result, Failure> = array.withUnsafeBytes { buffer in
        Swift.Result { () throws(Failure) -> Result in try body(buffer) }
    }
    return try outcome.get()
}
