/// Every way a peer can break RFC 6455 / RFC 7692, each mapped to the close code that answers it.
public enum WebSocketProtocolError: Error, Sendable, Equatable {
    /// RSV2 or RSV3 set: "MUST be 0 unless an extension is negotiated that defines meanings"
    /// (RFC 6455 §5.2).
    case reservedBitsSet
    /// RSV1 set without permessage-deflate, or on a control or continuation frame (RFC 7692 §6.1).
    case unexpectedCompressionBit
    /// Opcode 3–7 or 0xB–0xF: "If an unknown opcode is received, the receiving endpoint MUST
    /// _Fail the WebSocket Connection_" (RFC 6455 §5.2).
    case reservedOpcode(UInt8)
    /// A client frame without a mask: "The server MUST close the connection upon receiving a frame
    /// that is not masked" (RFC 6455 §5.1).
    case unmaskedFrame
    /// A server frame with a mask: "A client MUST close a connection if it detects a masked frame"
    /// (RFC 6455 §5.1).
    case maskedFrame
    /// "All control frames MUST have a payload length of 125 bytes or less" (RFC 6455 §5.5).
    case controlFrameTooLong
    /// "All control frames ... MUST NOT be fragmented" (RFC 6455 §5.5).
    case fragmentedControlFrame
    /// A continuation frame with no message in progress (RFC 6455 §5.4).
    case unexpectedContinuation
    /// A new text or binary frame while a fragmented message is in progress (RFC 6455 §5.4).
    case expectedContinuation
    /// A 64-bit length with its most significant bit set (RFC 6455 §5.2).
    case invalidLength
    /// A frame larger than `maxFramePayload`.
    case frameTooBig
    /// A message larger than `maxMessageSize` (after inflation).
    case messageTooBig
    /// Text that is not UTF-8 (RFC 6455 §8.1), detected as early as possible.
    case invalidUTF8
    /// A close frame with a one-byte payload (RFC 6455 §5.5.1: the body starts with a 2-byte code).
    case closePayloadTooShort
    /// A close code that may not be received (see `WebSocketCloseCode.isValidToReceive`).
    case invalidCloseCode(UInt16)
    /// A close reason that is not UTF-8 (RFC 6455 §5.5.1).
    case invalidCloseReason
    /// Compressed data zlib cannot inflate (RFC 7692 §7.2.2).
    case invalidCompressedData
    /// zlib could not allocate a stream (out of memory).
    case compressionUnavailable

    /// The single mapping from error to close code.
    public var closeCode: WebSocketCloseCode {
        switch self {
        case .frameTooBig, .messageTooBig: .messageTooBig
        case .invalidUTF8, .invalidCloseReason: .invalidPayload
        case .compressionUnavailable: .internalError
        case .reservedBitsSet, .unexpectedCompressionBit, .reservedOpcode, .unmaskedFrame, .maskedFrame,
            .controlFrameTooLong, .fragmentedControlFrame, .unexpectedContinuation, .expectedContinuation,
            .invalidLength, .closePayloadTooShort, .invalidCloseCode, .invalidCompressedData:
            .protocolError
        }
    }
}
