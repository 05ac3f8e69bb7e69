import SeededRandom
import Testing

@testable import WebSocket

@Suite("RFC 6455 §5.3 Client-to-server masking")
struct MaskingTests {
    static func naive(_ bytes: [UInt8], key: UInt32, offset: Int) -> [UInt8] {
        let keyBytes = (0..<4).map { UInt8(truncatingIfNeeded: key >> (24 - UInt32($0) * 8)) }
        return bytes.enumerated().map { $0.element ^ keyBytes[($0.offset + offset) % 4] }
    }

    @Test("matches the byte-at-a-time definition for every key offset, length and alignment")
    func equivalence() {
        var generator = SeededGenerator(seed: 6455)
        for length in 0..<80 {
            let data = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let key = UInt32.random(in: 0...UInt32.max, using: &generator)
            for offset in 0..<8 {
                for alignment in 0..<8 {
                    let expected = Self.naive(data, key: key, offset: offset)
                    let source = [UInt8](repeating: 0xEE, count: alignment) + data
                    var destination = [UInt8](repeating: 0, count: length + 16)
                    source.withUnsafeBytes { raw in
                        destination.withUnsafeMutableBytes { out in
                            WebSocketMasking.apply(
                                key: key, keyOffset: offset, source: UnsafeRawBufferPointer(rebasing: raw[alignment...]),
                                destination: out.baseAddress! + (7 - alignment))
                        }
                    }
                    #expect(Array(destination[(7 - alignment)..<(7 - alignment + length)]) == expected)
                    var inPlace = source
                    inPlace.withUnsafeMutableBytes { raw in
                        WebSocketMasking.apply(
                            key: key, keyOffset: offset, inPlace: UnsafeMutableRawBufferPointer(rebasing: raw[alignment...]))
                    }
                    #expect(Array(inPlace[alignment...]) == expected)
                }
            }
        }
    }

    @Test("masking a frame split at every point gives the same payload")
    func splitFrame() {
        let payload = (0..<200).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        let bytes = frame(2, payload, mask: 0xDEAD_BEEF)
        for split in 1..<bytes.count {
            var connection = makeConnection()
            var events: [WebSocketEvent] = []
            var pending = Array(bytes[..<split])
            let consumed = connection.receive(pending) { events.append($0) }
            pending.removeFirst(consumed)
            pending += bytes[split...]
            _ = connection.receive(pending) { events.append($0) }
            #expect(events == [.binary(payload)], "split at \(split)")
        }
    }

    @Test("RFC 6455 §5.7 masked example")
    func example() {
        #expect(Self.naive(Array("Hello".utf8), key: exampleMask, offset: 0) == [0x7F, 0x9F, 0x4D, 0x51, 0x58])
        var bytes = Array("Hello".utf8)
        bytes.withUnsafeMutableBytes { WebSocketMasking.apply(key: exampleMask, keyOffset: 0, inPlace: $0) }
        #expect(bytes == [0x7F, 0x9F, 0x4D, 0x51, 0x58])
    }
}
