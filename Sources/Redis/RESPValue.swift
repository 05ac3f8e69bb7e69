/// One RESP2 value, as Redis sends it and as the decoder returns it.
///
/// Bytes stay bytes (`[UInt8]`): keys, stream payloads and script arguments are binary-safe in
/// Redis, and a `String` would validate (and may alter) them. RESP3 types are not spoken: the
/// client never sends `HELLO 3`, so a RESP3 reply is a protocol error.
public enum RESPValue: Sendable, Hashable {
    /// `+OK\r\n`: a status line (no CR or LF inside).
    case simpleString([UInt8])
    /// `-ERR message\r\n`: a server error reply. It is an answer, not a connection failure.
    case error([UInt8])
    /// `:42\r\n`: a signed 64-bit integer.
    case integer(Int64)
    /// `$3\r\nfoo\r\n`, or `$-1\r\n` for the null bulk string (`nil`).
    case bulkString([UInt8]?)
    /// `*2\r\n…`, or `*-1\r\n` for the null array (`nil`).
    case array([RESPValue]?)

    /// The bytes of a simple string, bulk string or error; nil for other values and for null.
    public var bytes: [UInt8]? {
        switch self {
        case .simpleString(let bytes), .error(let bytes): return bytes
        case .bulkString(let bytes): return bytes
        case .integer, .array: return nil
        }
    }

    /// The bytes as UTF-8 text (invalid sequences repaired), for replies known to be text.
    public var string: String? {
        bytes.map { String(decoding: $0, as: UTF8.self) }
    }

    /// The integer of an integer reply.
    public var integer: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    /// The elements of a non-null array.
    public var array: [RESPValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// Whether this is the null bulk string or the null array.
    public var isNull: Bool {
        switch self {
        case .bulkString(nil), .array(nil): return true
        default: return false
        }
    }

    /// Whether this is a server error reply.
    public var isError: Bool {
        if case .error = self { return true }
        return false
    }

    /// The first word of an error reply (`ERR`, `NOSCRIPT`, `WRONGPASS`, `LOADING`…), or nil.
    public var errorCode: String? {
        guard case .error(let message) = self else { return nil }
        return String(decoding: message.prefix { $0 != UInt8(ascii: " ") }, as: UTF8.self)
    }
}

extension RESPValue: CustomStringConvertible {
    /// A readable rendering for logs and test failures (bytes as lossy UTF-8).
    public var description: String {
        switch self {
        case .simpleString(let bytes): return "+" + String(decoding: bytes, as: UTF8.self)
        case .error(let bytes): return "-" + String(decoding: bytes, as: UTF8.self)
        case .integer(let value): return ":\(value)"
        case .bulkString(nil): return "(nil)"
        case .bulkString(let bytes?): return "\"" + String(decoding: bytes, as: UTF8.self) + "\""
        case .array(nil): return "(nil array)"
        case .array(let elements?): return "[" + elements.map(\.description).joined(separator: ", ") + "]"
        }
    }
}
