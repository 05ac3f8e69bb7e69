/// Encodes whole frames (RFC 6455 §5.2); server frames are unmasked, so one encoding can be shared
/// by every receiver.
public enum WebSocketFrameEncoder {
    /// The header length for a payload of `count` bytes: 2, 4 or 10 bytes, plus 4 with a mask.
    ///
    /// "the minimal number of bytes MUST be used to encode the length" (RFC 6455 §5.2): 7 bits up to
    /// 125, 16 bits up to 65535, 64 bits beyond.
    @inlinable
    public static func headerLength(payloadCount count: Int, masked: Bool) -> Int {
        let base = count <= 125 ? 2 : count <= 0xFFFF ? 4 : 10
        return masked ? base + 4 : base
    }

    /// Encodes one frame. `mask` is the masking key in network byte order (see `WebSocketMasking`);
    /// pass one only as a client.
    public static func encode(
        _ opcode: WebSocketOpcode,
        payload: UnsafeRawBufferPointer,
        fin: Bool = true,
        rsv1: Bool = false,
        mask: UInt32? = nil
    ) -> [UInt8] {
        let count = payload.count
        let header = headerLength(payloadCount: count, masked: mask != nil)
        return [UInt8](unsafeUninitializedCapacity: header + count) { buffer, initialized in
            guard let base = buffer.baseAddress else { return }
            let raw = UnsafeMutableRawPointer(base)
            writeHeader(opcode, count: count, fin: fin, rsv1: rsv1, mask: mask, to: raw)
            if let mask {
                WebSocketMasking.apply(key: mask, keyOffset: 0, source: payload, destination: raw + header)
            } else if let source = payload.baseAddress, count > 0 {
                (raw + header).copyMemory(from: source, byteCount: count)
            }
            initialized = header + count
        }
    }

    /// Encodes one frame from an array payload.
    public static func encode(
        _ opcode: WebSocketOpcode,
        payload: [UInt8],
        fin: Bool = true,
        rsv1: Bool = false,
        mask: UInt32? = nil
    ) -> [UInt8] {
        payload.withUnsafeBytes { encode(opcode, payload: $0, fin: fin, rsv1: rsv1, mask: mask) }
    }

    /// Writes a header of `headerLength(payloadCount: count, masked: mask != nil)` bytes.
    static func writeHeader(
        _ opcode: WebSocketOpcode,
        count: Int,
        fin: Bool,
        rsv1: Bool,
        mask: UInt32?,
        to raw: UnsafeMutableRawPointer
    ) {
        raw.storeBytes(of: (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode.rawValue, as: UInt8.self)
        let maskBit: UInt8 = mask == nil ? 0 : 0x80
        var offset: Int
        if count <= 125 {
            raw.storeBytes(of: maskBit | UInt8(truncatingIfNeeded: count), toByteOffset: 1, as: UInt8.self)
            offset = 2
        } else if count <= 0xFFFF {
            raw.storeBytes(of: maskBit | 126, toByteOffset: 1, as: UInt8.self)
            raw.storeBytes(of: UInt16(truncatingIfNeeded: count).bigEndian, toByteOffset: 2, as: UInt16.self)
            offset = 4
        } else {
            raw.storeBytes(of: maskBit | 127, toByteOffset: 1, as: UInt8.self)
            raw.storeBytes(of: UInt64(truncatingIfNeeded: count).bigEndian, toByteOffset: 2, as: UInt64.self)
            offset = 10
        }
        if let mask {
            raw.storeBytes(of: mask.bigEndian, toByteOffset: offset, as: UInt32.self)
            offset += 4
        }
    }

    /// The payload of a close frame: the code in network byte order, then the reason, cut at a
    /// character boundary so the whole payload stays within the 125 bytes of a control frame.
    public static func closePayload(code: WebSocketCloseCode, reason: String) -> [UInt8] {
        var payload: [UInt8] = [UInt8(truncatingIfNeeded: code.rawValue >> 8), UInt8(truncatingIfNeeded: code.rawValue)]
        var used = 0
        for scalar in reason.unicodeScalars {
            let width = UTF8.width(scalar)
            guard used + width <= 123 else { break }
            UTF8.encode(scalar) { payload.append($0) }
            used += width
        }
        return payload
    }
}
