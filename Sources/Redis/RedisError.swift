/// Why a command has no reply. (A server error reply is not one of these: it is a
/// `RESPValue.error` value, delivered as a success.)
public enum RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No reply in time. If the command had been sent, the connection was closed and reopened:
    /// it may or may not have run.
    case timeout
    /// The connection closed while the command was in flight: it may or may not have run. It is
    /// never retried by the client (an EVAL may have applied); the caller decides.
    case connectionLost
    /// Not connected and the queue of waiting commands is full: the command was not sent.
    case unavailable
    /// The connection's AUTH or SELECT was refused (the server's message): not sent.
    case handshakeFailed(String)
    /// The client was closed: not sent, or its reply will never be read.
    case closed
    /// The call cannot work where it was made (`sendAndWait` on the client's own loop thread).
    case misuse(String)

    public var description: String {
        switch self {
        case .timeout: return "Redis: no reply in time"
        case .connectionLost: return "Redis: connection lost with the command in flight"
        case .unavailable: return "Redis: not connected and the command queue is full"
        case .handshakeFailed(let message): return "Redis: AUTH/SELECT refused: \(message)"
        case .closed: return "Redis: client closed"
        case .misuse(let message): return "Redis: \(message)"
        }
    }
}
