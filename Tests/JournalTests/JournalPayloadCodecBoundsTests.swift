import Monitor
import SeededRandom
import Testing

@testable import Journal

/// The encoder checks the room left before every write: a buffer smaller than the payload (as an
/// under-estimated `capacityBound` would give) yields the same bytes after a retry, never a write
/// past the buffer (which the address sanitizer or a crash would show).
@Suite("JournalPayloadCodec: every write is bounds-checked")
struct JournalPayloadCodecBoundsTests {
    @Test(arguments: [1, 2, 3])
    func aTooSmallCapacityGivesTheSamePayload(seed: UInt64) throws {
        var generator = SeededGenerator(seed: seed)
        for _ in 0..<50 {
            let entries = (0..<Int.random(in: 1...5, using: &generator)).map { _ in randomEntry(&generator) }
            let expected = JournalPayloadCodec.encode(entries)
            #expect(expected.count == JournalPayloadCodec.encodedSize(of: entries))
            for capacity in [0, 1, expected.count / 2, expected.count - 1] {
                let payload = JournalPayloadCodec.encode(entries, capacity: capacity)
                #expect(payload == expected, "capacity \(capacity) of \(expected.count)")
            }
            #expect(try JournalPayloadCodec.decode(expected) == entries)
        }
    }

    /// The writer refuses a write that does not fit and reports it, leaving the bytes after the
    /// buffer untouched.
    @Test func theWriterStopsAtTheEndOfItsBuffer() {
        var storage = [UInt8](repeating: 0xEE, count: 8)
        let (written, overflowed) = storage.withUnsafeMutableBufferPointer { buffer -> (Int, Bool) in
            guard let base = buffer.baseAddress else { return (0, false) }
            var writer = PayloadWriter(start: base, count: 4)
            writer.write(1)
            writer.writeVarint(300)  // two bytes
            writer.writeBytes([7, 7, 7])  // does not fit in the one byte left
            writer.write(2)  // fits
            writer.writeVarint(UInt64.max)  // ten bytes: does not fit
            return (writer.position - base, writer.overflowed)
        }
        #expect(overflowed)
        #expect(written == 4)
        #expect(storage[0..<4] == [1, 0xAC, 0x02, 2])
        #expect(storage[4...].allSatisfy { $0 == 0xEE }, "nothing written past the buffer")
    }
}
