/// Why bytes from a Redis server are not valid RESP2 (or pass a configured bound).
///
/// After any of these the stream cannot be resynchronised: the connection must be closed.
public enum RESPDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The first byte of a value is not one of `+ - : $ *` (RESP3 types included).
    case unknownType(UInt8)
    /// A header or status line has no CRLF within the line bound.
    case lineTooLong(limit: Int)
    /// A line holds a CR not followed by LF, or a bare LF.
    case malformedLineEnd
    /// An integer or a length is not `-?[0-9]+` within 64 bits.
    case invalidInteger
    /// A length is negative but not -1 (the null marker).
    case negativeLength(Int64)
    /// A bulk string is longer than the bound.
    case bulkTooLong(length: Int64, limit: Int)
    /// An array has more elements than the bound.
    case arrayTooLong(length: Int64, limit: Int)
    /// Arrays are nested deeper than the bound.
    case nestingTooDeep(limit: Int)
    /// A bulk string's payload is not followed by CRLF.
    case missingBulkTerminator

    public var description: String {
        switch self {
        case .unknownType(let byte): return "RESP: unknown type byte 0x\(String(byte, radix: 16))"
        case .lineTooLong(let limit): return "RESP: line longer than \(limit) bytes"
        case .malformedLineEnd: return "RESP: line not ended by CRLF"
        case .invalidInteger: return "RESP: invalid integer"
        case .negativeLength(let length): return "RESP: negative length \(length)"
        case .bulkTooLong(let length, let limit): return "RESP: bulk string of \(length) bytes exceeds \(limit)"
        case .arrayTooLong(let length, let limit): return "RESP: array of \(length) elements exceeds \(limit)"
        case .nestingTooDeep(let limit): return "RESP: arrays nested deeper than \(limit)"
        case .missingBulkTerminator: return "RESP: bulk string not followed by CRLF"
        }
    }
}
