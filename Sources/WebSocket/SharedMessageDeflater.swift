/// Compresses messages once for many receivers (RFC 7692 with `server_no_context_takeover`).
///
/// Every message is compressed with a fresh context, so the bytes are valid for every connection
/// that negotiated permessage-deflate with a server window of at least `windowBits` bits.
/// Frame the result with `WebSocketFrameEncoder.encode(_:payload:rsv1: true)`.
///
/// Copies share one zlib stream until one of them compresses, which then makes its own
/// (copy-on-write), so a copy in another thread never touches the same stream.
public struct SharedMessageDeflater {
    private var deflater: MessageDeflater?
    /// The LZ77 window the output uses (9–15; 8 is raised to 9, which zlib requires for raw DEFLATE:
    /// only send such output to peers whose `server_max_window_bits` is at least this).
    public let windowBits: Int

    /// Creates a compressor with a `windowBits` window (9–15).
    public init(windowBits: Int = 15) {
        self.windowBits = min(max(windowBits, 9), 15)
        deflater = MessageDeflater(windowBits: self.windowBits)
    }

    /// Compresses one message: raw DEFLATE with the `00 00 ff ff` tail removed (RFC 7692 §7.2.1).
    /// Returns an empty array only if zlib fails (it does not with valid parameters).
    public mutating func compress(_ payload: UnsafeRawBufferPointer) -> [UInt8] {
        if !isKnownUniquelyReferenced(&deflater) {
            deflater = MessageDeflater(windowBits: windowBits)
        }
        return deflater?.compress(payload) ?? []
    }

    /// Compresses an array.
    public mutating func compress(_ payload: [UInt8]) -> [UInt8] {
        payload.withUnsafeBytes { compress($0) }
    }
}
