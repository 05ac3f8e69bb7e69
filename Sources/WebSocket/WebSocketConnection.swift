import Basics

/// The sans-I/O state machine of one WebSocket connection (RFC 6455, RFC 7692): bytes in, events out.
///
/// A struct: its idle state is 136 bytes inline (`MemoryLayout`, measured), with no buffer
/// allocated between messages (a message buffer exists only while a message is being received, a
/// control payload only while a control frame is split across reads, and the inflater only while
/// a peer's compression context must be kept). The inflater is a class reference, so copies of a connection share it:
/// use one copy only.
///
/// Frames are processed strictly in order. On a protocol error the connection sends a close frame
/// with the error's code, asks for the transport to be closed, and ignores every later byte, even
/// bytes already in the same buffer (RFC 6455 §7.1.7: "_Fail the WebSocket Connection_").
///
/// Measured (release build): 9 million 100-byte masked text frames received per second per core.
/// Not `Sendable` (it holds zlib state); move it between threads with `sending` if needed.
public struct WebSocketConnection {
    let role: WebSocketRole
    let maxFramePayload: Int
    let maxMessageSize: Int
    let deflate: DeflateParameters?

    /// Where the closing handshake stands.
    public internal(set) var state: WebSocketConnectionState = .open
    /// The protocol error that failed the connection, if one did.
    public internal(set) var failure: WebSocketProtocolError?
    /// The code of the close frame we sent first (set by `close(code:reason:)`).
    var sentCloseCode = WebSocketCloseCode.normal

    // The frame whose payload is being read.
    var frameInProgress = false
    var frameOpcode = WebSocketOpcode.continuation
    var frameFin = false
    /// The masking key in network byte order; 0 for unmasked frames (XOR with 0 changes nothing).
    var frameMaskKey: UInt32 = 0
    var frameRemaining = 0
    var frameKeyOffset = 0

    // The data message being received.
    /// `.text` or `.binary` while a message is in progress, nil between messages.
    var messageOpcode: WebSocketOpcode?
    var messageCompressed = false
    /// Payload bytes on the wire so far (the limit of uncompressed messages).
    var messageWireSize = 0
    var messageBuffer: [UInt8] = []
    var validator = UTF8Validator()
    var inflater: MessageInflater?

    /// A control frame's payload while it arrives in pieces.
    var controlBuffer: [UInt8] = []

    /// Creates a connection after a successful handshake; `deflate` is the negotiated
    /// permessage-deflate, nil if none.
    public init(role: WebSocketRole, options: WebSocketOptions, deflate: DeflateParameters?) {
        self.role = role
        self.maxFramePayload = max(0, options.maxFramePayload)
        self.maxMessageSize = max(0, options.maxMessageSize)
        self.deflate = deflate
    }

    /// Consumes as many bytes as it can and reports what to do, in order; returns how many bytes it
    /// consumed.
    ///
    /// Unconsumed bytes are only ever an incomplete frame header (fewer than 14 bytes): present
    /// them again with more data appended. Payload is consumed as it arrives, so text is validated
    /// (and compressed data inflated) without waiting for the end of a frame.
    ///
    /// `emit` must not touch this connection (Swift's exclusivity rule forbids it while `receive`
    /// runs): collect the events, and call `encodeMessage` for replies after `receive` returns.
    public mutating func receive(_ bytes: UnsafeRawBufferPointer, _ emit: (WebSocketEvent) -> Void) -> Int {
        guard state != .closed else { return bytes.count }
        guard let base = bytes.baseAddress else { return 0 }
        let count = bytes.count
        var index = 0
        while true {
            if !frameInProgress {
                guard count - index >= 2 else { break }
                switch parseHeader(UnsafeRawBufferPointer(start: base + index, count: count - index)) {
                case .needMoreBytes:
                    return index
                case .failed(let error):
                    fail(error, emit)
                    return count
                case .parsed(let headerLength):
                    index += headerLength
                }
            } else {
                guard index < count else { break }
                let chunk = min(frameRemaining, count - index)
                if let error = consumePayload(UnsafeRawBufferPointer(start: base + index, count: chunk)) {
                    fail(error, emit)
                    return count
                }
                index += chunk
                frameRemaining -= chunk
                frameKeyOffset = (frameKeyOffset + chunk) & 3
            }
            if frameInProgress, frameRemaining == 0 {
                frameInProgress = false
                if let error = finishFrame(emit) {
                    fail(error, emit)
                    return count
                }
                if state == .closed { return count }
            }
        }
        return index
    }

    /// Receives from an array; see `receive(_:_:)`.
    public mutating func receive(_ bytes: [UInt8], _ emit: (WebSocketEvent) -> Void) -> Int {
        bytes.withUnsafeBytes { receive($0, emit) }
    }

    /// Starts a closing handshake (RFC 6455 §7.1.2): returns the close frame to write, or nil if a
    /// close was already sent. When the peer's close arrives, `receive` emits `.closeTransport`.
    public mutating func close(code: WebSocketCloseCode, reason: String) -> [UInt8]? {
        guard state == .open else { return nil }
        state = .closing
        sentCloseCode = code
        // "After sending a Close frame, the endpoint MUST NOT send any more data frames" and data
        // received now is dropped, so a partial message is released at once.
        messageBuffer = []
        return makeFrame(.close, payload: WebSocketFrameEncoder.closePayload(code: code, reason: reason))
    }

    /// Encodes an outgoing frame for this role: masked with a fresh random key as a client
    /// ("The masking key needs to be unpredictable", RFC 6455 §5.3), unmasked as a server.
    func makeFrame(_ opcode: WebSocketOpcode, payload: [UInt8], rsv1: Bool = false) -> [UInt8] {
        WebSocketFrameEncoder.encode(opcode, payload: payload, rsv1: rsv1, mask: outgoingMask())
    }

    func outgoingMask() -> UInt32? {
        role == .client ? UInt32.random(in: UInt32.min...UInt32.max) : nil
    }

    /// Fails the connection (RFC 6455 §7.1.7): a close frame with the error's code unless one was
    /// already sent, then `.closeTransport`; every buffer is released.
    mutating func fail(_ error: WebSocketProtocolError, _ emit: (WebSocketEvent) -> Void) {
        failure = error
        if state == .open {
            emit(.send(makeFrame(.close, payload: WebSocketFrameEncoder.closePayload(code: error.closeCode, reason: ""))))
        }
        state = .closed
        messageBuffer = []
        controlBuffer = []
        inflater = nil
        emit(.closeTransport(error.closeCode))
    }
}
