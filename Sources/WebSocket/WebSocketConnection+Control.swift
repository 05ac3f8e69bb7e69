import Basics

extension WebSocketConnection {
    /// Answers a complete control frame (RFC 6455 §5.5).
    mutating func handleControl(
        _ opcode: WebSocketOpcode,
        payload: [UInt8],
        _ emit: (WebSocketEvent) -> Void
    ) -> WebSocketProtocolError? {
        switch opcode {
        case .ping:
            // "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in response ...
            // A Pong frame sent in response to a Ping frame must have identical "Application data"
            // as found in the message body of the Ping frame being replied to" (§5.5.2, §5.5.3).
            // Once our close is sent we are only waiting for the peer's close: no pong.
            guard state == .open else { return nil }
            emit(.ping(payload))
            emit(.send(makeFrame(.pong, payload: payload)))
            return nil
        case .pong:
            // "A Pong frame MAY be sent unsolicited." (§5.5.3)
            if state == .open { emit(.pong(payload)) }
            return nil
        case .close:
            return handleClose(payload, emit)
        default:
            return nil
        }
    }

    /// Answers a close frame (RFC 6455 §5.5.1, §7.4).
    ///
    /// "If an endpoint receives a Close frame and did not previously send a Close frame, the
    /// endpoint MUST send a Close frame in response. (When sending a Close frame in response, the
    /// endpoint typically echos the status code it received.)" The server then closes the TCP
    /// connection first (§7.1.1). A close inside a fragmented message is answered the same way.
    mutating func handleClose(_ payload: [UInt8], _ emit: (WebSocketEvent) -> Void) -> WebSocketProtocolError? {
        if state == .closing {
            // Our close was answered: the closing handshake is complete.
            state = .closed
            messageBuffer = []
            inflater = nil
            emit(.closeTransport(sentCloseCode))
            return nil
        }
        let code: WebSocketCloseCode
        switch payload.count {
        case 0:
            // "If there is no such data in the Close control frame, _The WebSocket Connection
            // Close Code_ is considered to be 1005" — we answer it with 1000.
            code = .normal
        case 1:
            // "If there is a body, the first two bytes of the body MUST be a 2-byte unsigned
            // integer ... representing a status code."
            return .closePayloadTooShort
        default:
            code = WebSocketCloseCode(rawValue: UInt16(payload[0]) << 8 | UInt16(payload[1]))
            guard code.isValidToReceive else { return .invalidCloseCode(code.rawValue) }
            // "the body ... MAY contain UTF-8-encoded data"; §8.1 applies to it.
            var reasonValidator = UTF8Validator()
            let reasonIsValid = payload.withUnsafeBytes { raw in
                reasonValidator.feed(UnsafeRawBufferPointer(rebasing: raw[2...]))
            }
            guard reasonIsValid, reasonValidator.isAtBoundary else { return .invalidCloseReason }
        }
        emit(.send(makeFrame(.close, payload: WebSocketFrameEncoder.closePayload(code: code, reason: ""))))
        state = .closed
        messageBuffer = []
        inflater = nil
        emit(.closeTransport(code))
        return nil
    }
}
