/// Size limits the request parser enforces before it buffers or allocates (DESIGN.md §6).
public struct HTTPParserLimits: Sendable, Equatable {
    /// Largest request head (request line, fields and the blank line) in bytes; beyond it: 431.
    /// Also bounds a chunked body's trailer section.
    public var maxHeadSize: Int
    /// Largest decoded body in bytes; beyond it: 413.
    public var maxBodySize: Int
    /// Most header fields in one head; beyond it: 431.
    public var maxHeaderCount: Int
    /// Longest chunk-size line (size and extensions) in bytes; beyond it: 400.
    public var maxChunkLineSize: Int

    /// Creates limits; the defaults are 16 KiB head, 8 MiB body, 100 fields, 4 KiB chunk line.
    public init(
        maxHeadSize: Int = 16 * 1024, maxBodySize: Int = 8 * 1024 * 1024, maxHeaderCount: Int = 100,
        maxChunkLineSize: Int = 4 * 1024
    ) {
        self.maxHeadSize = maxHeadSize
        self.maxBodySize = maxBodySize
        self.maxHeaderCount = maxHeaderCount
        self.maxChunkLineSize = maxChunkLineSize
    }
}

/// Why a request could not be parsed, with the status code to answer before closing.
public struct HTTPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 400, 413, 431, 501 or 505.
    public var status: Int
    /// A short human-readable reason, safe to send back to the client.
    public var message: String

    /// Creates an error.
    public init(status: Int, message: String) {
        self.status = status
        self.message = message
    }

    /// `status message`.
    public var description: String { "\(status) \(message)" }

    static func badRequest(_ message: String) -> HTTPParseError { .init(status: 400, message: message) }
    static func contentTooLarge(_ message: String) -> HTTPParseError { .init(status: 413, message: message) }
    static func headTooLarge(_ message: String) -> HTTPParseError { .init(status: 431, message: message) }
    static func notImplemented(_ message: String) -> HTTPParseError { .init(status: 501, message: message) }
    static func versionNotSupported(_ message: String) -> HTTPParseError { .init(status: 505, message: message) }
}

/// What one call to ``HTTPRequestParser/parse(_:)`` produced.
public enum HTTPParseResult: Sendable {
    /// A complete request; the first `consumed` bytes were used and the rest belong to whatever
    /// follows (the next pipelined request, or another protocol after an upgrade).
    case request(HTTPRequest, consumed: Int)
    /// The request is incomplete; drop the first `consumed` bytes and call again with the rest plus
    /// newly received bytes. When `sendContinue` is true (once per request) write
    /// `HTTP/1.1 100 Continue` before reading on.
    case needMore(consumed: Int, sendContinue: Bool)
    /// The input is not a valid request; answer with `error.status` and close the connection.
    case error(HTTPParseError)
    /// The admission check refused a request that announced a body: the first `consumed` bytes
    /// (its head) were used and none of its body was read. Answer the refusal and close the
    /// connection (the unread body makes the rest of the stream unusable).
    case refused(HTTPRequestHead, consumed: Int)
}

/// What the caller decides about a request from its head alone, before any of its body is read
/// (see ``HTTPRequestParser/parse(_:admit:)``).
public enum HTTPRequestAdmission: Sendable, Equatable {
    /// Read the body, refusing it with 413 past `maxBodySize` bytes (checked against
    /// `Content-Length` before anything is buffered, and against each chunk size while reading).
    /// The parser's own ``HTTPParserLimits/maxBodySize`` still applies.
    case accept(maxBodySize: Int)
    /// Do not read the body (no `100 Continue` is signalled): the parser returns `.refused`.
    case refuse
}
