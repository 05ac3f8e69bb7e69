import Basics
import CZlib

/// A raw-DEFLATE inflater for permessage-deflate messages (RFC 7692 §7.2.2), inflating in bounded
/// steps so no message can grow past its cap (decompression bombs).
///
/// A final class because zlib keeps a pointer back to its `z_stream` (`inflateStateCheck` compares
/// `state->strm` with the stream it is given), so the stream must live at one heap address, and
/// `deinit` must call `inflateEnd`. Connections allocate it lazily, on their first compressed message.
final class MessageInflater {
    /// What one call did.
    enum Outcome: Equatable {
        /// All input consumed (or the DEFLATE stream ended), output appended.
        case consumed
        /// Appending more would pass the cap.
        case tooBig
        /// zlib rejected the data.
        case invalidData
        /// The text validator rejected the inflated bytes.
        case invalidUTF8
    }

    /// Output is produced in steps of at most this many bytes, each checked against the cap.
    static let stepSize = 16 * 1024

    /// The bytes RFC 7692 §7.2.2 appends before inflating: "Append 4 octets of 0x00 0x00 0xff 0xff
    /// to the tail end of the payload of the message."
    static let tail: [UInt8] = [0x00, 0x00, 0xFF, 0xFF]

    private let stream: UnsafeMutablePointer<z_stream>
    /// Set when the sender ended the DEFLATE stream (a block with BFINAL): the rest of the message
    /// is ignored and the stream is reset before the next one.
    private(set) var streamEnded = false

    /// Creates an inflater for raw DEFLATE with a window of `windowBits` (8–15); nil if zlib fails.
    init?(windowBits: Int) {
        stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        guard czlib_inflate_init2(stream, -Int32(windowBits)) == Z_OK else {
            stream.deinitialize(count: 1)
            stream.deallocate()
            return nil
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// Inflates `input` (at most `UInt32.max` bytes), appending to `output` while it stays within
    /// `limit` bytes, and feeding new output to `validator` when `validates`.
    func inflate(
        _ input: UnsafeRawBufferPointer,
        into output: inout [UInt8],
        limit: Int,
        validator: inout UTF8Validator,
        validates: Bool
    ) -> Outcome {
        guard !streamEnded, let base = input.baseAddress, input.count > 0 else { return .consumed }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(truncatingIfNeeded: input.count)
        defer {
            stream.pointee.next_in = nil
            stream.pointee.avail_in = 0
        }
        return withUnsafeTemporaryAllocation(byteCount: Self.stepSize, alignment: 16) { scratch in
            guard let scratchBase = scratch.baseAddress else { return .invalidData }
            while true {
                stream.pointee.next_out = scratchBase.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_out = uInt(Self.stepSize)
                let status = CZlib.inflate(stream, Z_SYNC_FLUSH)
                let produced = Self.stepSize - Int(stream.pointee.avail_out)
                if produced > 0 {
                    guard produced <= limit - output.count else { return .tooBig }
                    let chunk = UnsafeRawBufferPointer(start: scratchBase, count: produced)
                    if validates, !validator.feed(chunk) { return .invalidUTF8 }
                    output.append(contentsOf: chunk.assumingMemoryBound(to: UInt8.self))
                }
                switch status {
                case Z_STREAM_END:
                    streamEnded = true
                    return .consumed
                case Z_OK:
                    if stream.pointee.avail_in == 0 && stream.pointee.avail_out != 0 { return .consumed }
                case Z_BUF_ERROR:
                    // No progress possible: input exhausted and nothing pending.
                    return .consumed
                default:
                    return .invalidData
                }
            }
        }
    }

    /// Prepares for the next message after a stream that ended with BFINAL (the window is lost,
    /// which is fine: a sender that ends its stream cannot refer back across it).
    func resetIfStreamEnded() {
        guard streamEnded else { return }
        inflateReset(stream)
        streamEnded = false
    }
}
