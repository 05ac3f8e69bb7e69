/// A close status code (RFC 6455 §7.4).
public struct WebSocketCloseCode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    /// The code as sent on the wire.
    public var rawValue: UInt16

    /// Wraps any code; use `isValidToReceive` to check a code a peer sent.
    public init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    /// 1000: "a normal closure, meaning that the purpose for which the connection was established
    /// has been fulfilled."
    public static let normal = WebSocketCloseCode(rawValue: 1000)
    /// 1001: "an endpoint is "going away", such as a server going down".
    public static let goingAway = WebSocketCloseCode(rawValue: 1001)
    /// 1002: "an endpoint is terminating the connection due to a protocol error."
    public static let protocolError = WebSocketCloseCode(rawValue: 1002)
    /// 1003: "it has received a type of data it cannot accept".
    public static let unsupportedData = WebSocketCloseCode(rawValue: 1003)
    /// 1005: "no status code was actually present" (never sent on the wire).
    public static let noStatusReceived = WebSocketCloseCode(rawValue: 1005)
    /// 1007: "data within a message that was not consistent with the type of the message
    /// (e.g., non-UTF-8 [RFC3629] data within a text message)."
    public static let invalidPayload = WebSocketCloseCode(rawValue: 1007)
    /// 1008: "a message that violates its policy."
    public static let policyViolation = WebSocketCloseCode(rawValue: 1008)
    /// 1009: "a message that is too big for it to process."
    public static let messageTooBig = WebSocketCloseCode(rawValue: 1009)
    /// 1011: "it encountered an unexpected condition that prevented it from fulfilling the request."
    public static let internalError = WebSocketCloseCode(rawValue: 1011)
    /// 4008 (private use range): Syndicast closes a client whose outbound queue passed its limit.
    public static let slowConsumer = WebSocketCloseCode(rawValue: 4008)

    /// Whether a peer may send this code in a close frame.
    ///
    /// RFC 6455 §7.4.1 defines 1000–1003 and 1007–1011; 1004 is reserved and 1005, 1006 and 1015
    /// "MUST NOT be set as a status code in a Close control frame by an endpoint". IANA registered
    /// 1012–1014 later. §7.4.2: 0–999 are not used, 1000–2999 are reserved for the protocol,
    /// 3000–4999 are for libraries, frameworks and applications.
    public var isValidToReceive: Bool {
        switch rawValue {
        case 1000...1003, 1007...1014, 3000...4999: true
        default: false
        }
    }

    /// The decimal code.
    public var description: String { String(rawValue) }
}
