import CZlib

/// A raw-DEFLATE compressor that compresses each message on its own (no context takeover).
///
/// A final class for the same reason as `MessageInflater`: zlib's state points back at its
/// `z_stream`. Each message starts with `deflateReset`, so output never depends on earlier messages
/// and can be sent to any receiver that negotiated a window at least `windowBits`.
final class MessageDeflater {
    private let stream: UnsafeMutablePointer<z_stream>
    /// The LZ77 window, 9–15 (zlib cannot make raw streams with an 8-bit window).
    let windowBits: Int

    /// Creates a compressor; nil if zlib fails or `windowBits` is outside 9–15.
    init?(windowBits: Int, level: Int32 = Z_DEFAULT_COMPRESSION, memoryLevel: Int32 = 8) {
        guard (9...15).contains(windowBits) else { return nil }
        self.windowBits = windowBits
        stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        guard czlib_deflate_init2(stream, level, -Int32(windowBits), memoryLevel) == Z_OK else {
            stream.deinitialize(count: 1)
            stream.deallocate()
            return nil
        }
    }

    deinit {
        deflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// Compresses one whole message; returns the DEFLATE bytes without the trailing
    /// `00 00 ff ff` (RFC 7692 §7.2.1: "Remove 4 octets (that are 0x00 0x00 0xff 0xff) from the tail
    /// end"), or nil if zlib fails.
    func compress(_ payload: UnsafeRawBufferPointer) -> [UInt8]? {
        guard payload.count < Int(UInt32.max / 2), deflateReset(stream) == Z_OK else { return nil }
        // deflateBound covers the data; a sync flush adds an empty stored block (5 bytes) and padding.
        var capacity = Int(deflateBound(stream, uLong(payload.count))) + 16
        while true {
            var status: Int32 = Z_OK
            var complete = false
            let output = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
                guard let outputBase = buffer.baseAddress else { return }
                let input = payload.baseAddress ?? UnsafeRawPointer(outputBase)
                stream.pointee.next_in = UnsafeMutablePointer(mutating: input.assumingMemoryBound(to: Bytef.self))
                stream.pointee.avail_in = uInt(payload.count)
                stream.pointee.next_out = outputBase
                stream.pointee.avail_out = uInt(capacity)
                status = deflate(stream, Z_SYNC_FLUSH)
                initialized = capacity - Int(stream.pointee.avail_out)
                complete = stream.pointee.avail_in == 0 && stream.pointee.avail_out > 0
                stream.pointee.next_in = nil
                stream.pointee.next_out = nil
            }
            guard status == Z_OK else { return nil }
            if complete {
                return Self.removingTail(output)
            }
            // Output did not fit: start again with more room.
            guard deflateReset(stream) == Z_OK else { return nil }
            capacity *= 2
        }
    }

    private static func removingTail(_ output: [UInt8]) -> [UInt8] {
        guard output.count >= 4, output.suffix(4).elementsEqual(MessageInflater.tail) else { return output }
        return Array(output.dropLast(4))
    }
}
