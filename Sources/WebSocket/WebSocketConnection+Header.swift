import Basics

extension WebSocketConnection {
    /// The outcome of reading a frame header.
    enum HeaderResult {
        case needMoreBytes
        case failed(WebSocketProtocolError)
        /// The header was this many bytes; the frame state is set.
        case parsed(Int)
    }

    /// Reads and checks one frame header (RFC 6455 §5.2) at the start of `bytes` (at least 2 bytes).
    ///
    /// Everything the first two bytes decide is checked before waiting for the rest of the header,
    /// so a bad frame fails as early as possible.
    mutating func parseHeader(_ bytes: UnsafeRawBufferPointer) -> HeaderResult {
        let first = bytes[0]
        let second = bytes[1]
        // "RSV1, RSV2, RSV3: 1 bit each. MUST be 0 unless an extension is negotiated that defines
        // meanings for non-zero values." permessage-deflate defines RSV1 only (RFC 7692 §6).
        guard first & 0x30 == 0 else { return .failed(.reservedBitsSet) }
        guard let opcode = WebSocketOpcode(rawValue: first & 0x0F) else {
            return .failed(.reservedOpcode(first & 0x0F))
        }
        let fin = first & 0x80 != 0
        let rsv1 = first & 0x40 != 0
        let masked = second & 0x80 != 0
        switch role {
        case .server where !masked: return .failed(.unmaskedFrame)
        case .client where masked: return .failed(.maskedFrame)
        default: break
        }
        let shortLength = Int(second & 0x7F)
        if opcode.isControl {
            // RFC 6455 §5.5: "All control frames MUST have a payload length of 125 bytes or less
            // and MUST NOT be fragmented." RFC 7692 §6.1: RSV1 is for data messages only.
            guard fin else { return .failed(.fragmentedControlFrame) }
            guard shortLength <= 125 else { return .failed(.controlFrameTooLong) }
            guard !rsv1 else { return .failed(.unexpectedCompressionBit) }
        } else if opcode == .continuation {
            // RFC 6455 §5.4: fragments follow a first frame with opcode text or binary.
            guard messageOpcode != nil else { return .failed(.unexpectedContinuation) }
            // RFC 7692 §6.1: "An endpoint MUST NOT set the "Per-Message Compressed" bit of control
            // frames and non-first fragments of a data message."
            guard !rsv1 else { return .failed(.unexpectedCompressionBit) }
        } else {
            // RFC 6455 §5.4: "the fragments of one message MUST NOT be interleaved between the
            // fragments of another message".
            guard messageOpcode == nil else { return .failed(.expectedContinuation) }
            guard !rsv1 || deflate != nil else { return .failed(.unexpectedCompressionBit) }
        }
        let lengthBytes = shortLength == 126 ? 2 : shortLength == 127 ? 8 : 0
        let headerLength = 2 + lengthBytes + (masked ? 4 : 0)
        guard bytes.count >= headerLength else { return .needMoreBytes }
        // Non-minimal length encodings (say 5 in 16 bits) are accepted: "the minimal number of
        // bytes MUST be used" binds the sender, the length is still unambiguous, and rejecting it
        // protects nothing (python-websockets and NIOWebSocket accept it too).
        let length: UInt64
        switch lengthBytes {
        case 2: length = UInt64(UInt16(bigEndian: bytes.loadUnaligned(fromByteOffset: 2, as: UInt16.self)))
        case 8: length = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 2, as: UInt64.self))
        default: length = UInt64(shortLength)
        }
        // "the most significant bit MUST be 0" (RFC 6455 §5.2).
        guard length >> 63 == 0 else { return .failed(.invalidLength) }
        guard length <= UInt64(maxFramePayload) else { return .failed(.frameTooBig) }
        let payloadLength = Int(length)
        if opcode == .text || opcode == .binary {
            messageOpcode = opcode
            messageCompressed = rsv1
            messageWireSize = 0
            validator = UTF8Validator()
        }
        if !opcode.isControl && !messageCompressed {
            guard payloadLength <= maxMessageSize - messageWireSize else { return .failed(.messageTooBig) }
            messageWireSize += payloadLength
        }
        frameInProgress = true
        frameOpcode = opcode
        frameFin = fin
        frameMaskKey = masked ? UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: 2 + lengthBytes, as: UInt32.self)) : 0
        frameRemaining = payloadLength
        frameKeyOffset = 0
        return .parsed(headerLength)
    }
}
