extension WebSocketConnection {
    /// Payloads shorter than this are never compressed: DEFLATE cannot shrink them enough to pay
    /// for the stream setup.
    public static let compressionThreshold = 32

    /// Encodes one outgoing message as a single frame for this connection.
    ///
    /// Text and binary messages are compressed when permessage-deflate was negotiated and the
    /// result is smaller (RFC 7692 §6.1: an endpoint may send any message uncompressed). Every
    /// message is compressed with a fresh context, as `server_no_context_takeover` promises, using
    /// the negotiated window; a window of 8 bits, which zlib cannot produce, means uncompressed.
    /// The zlib stream lives only for this call, so an idle connection holds none. Frames are
    /// masked with a random key when `role == .client`.
    public mutating func encodeMessage(_ opcode: WebSocketOpcode, _ payload: UnsafeRawBufferPointer) -> [UInt8] {
        let mask = outgoingMask()
        if opcode == .text || opcode == .binary, payload.count >= Self.compressionThreshold,
            let windowBits = deflate?.sendingWindowBits(role: role),
            let deflater = MessageDeflater(windowBits: windowBits),
            let compressed = deflater.compress(payload), compressed.count < payload.count
        {
            return WebSocketFrameEncoder.encode(opcode, payload: compressed, rsv1: true, mask: mask)
        }
        return WebSocketFrameEncoder.encode(opcode, payload: payload, mask: mask)
    }

    /// Encodes an array payload; see `encodeMessage(_:_:)`.
    public mutating func encodeMessage(_ opcode: WebSocketOpcode, _ payload: [UInt8]) -> [UInt8] {
        payload.withUnsafeBytes { encodeMessage(opcode, $0) }
    }

    /// Encodes a ping with the given payload (at most 125 bytes; longer payloads are cut), for
    /// keepalive.
    public func encodePing(_ payload: [UInt8] = []) -> [UInt8] {
        makeFrame(.ping, payload: Array(payload.prefix(125)))
    }
}
