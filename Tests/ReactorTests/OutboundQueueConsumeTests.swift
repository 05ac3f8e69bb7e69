import Testing

@testable import Reactor

/// `OutboundQueue.consume(upTo:)`, which hands TLS the queued plaintext to seal.
@Suite("OutboundQueue: consume up to a limit, in order")
struct OutboundQueueConsumeTests {
    static func chunk(_ byte: UInt8, _ count: Int) -> ByteChunk {
        ByteChunk([UInt8](repeating: byte, count: count))
    }

    static func take(_ queue: inout OutboundQueue, upTo limit: Int) -> [(bytes: [UInt8], more: Bool)] {
        var pieces: [([UInt8], Bool)] = []
        queue.consume(upTo: limit) { bytes, more in pieces.append((Array(bytes), more)) }
        return pieces
    }

    @Test func batchIsTakenInOrderAcrossTheLimit() {
        var queue = OutboundQueue()
        queue.append(contentsOf: [Self.chunk(1, 10), Self.chunk(2, 20), Self.chunk(3, 30)])
        let first = Self.take(&queue, upTo: 25)
        #expect(first.map(\.bytes) == [[UInt8](repeating: 1, count: 10), [UInt8](repeating: 2, count: 15)])
        #expect(first.map(\.more) == [true, false], "the last piece of a call says no more follow")
        #expect(queue.byteCount == 35)
        let rest = Self.take(&queue, upTo: 1_000)
        #expect(rest.map(\.bytes) == [[UInt8](repeating: 2, count: 5), [UInt8](repeating: 3, count: 30)])
        #expect(rest.map(\.more) == [true, false])
        #expect(queue.isEmpty)
    }

    @Test func singleChunkIsTakenAlone() {
        var queue = OutboundQueue()
        queue.append(Self.chunk(7, 100))
        let first = Self.take(&queue, upTo: 60)
        #expect(first.count == 1 && first[0].bytes.count == 60 && !first[0].more)
        #expect(queue.byteCount == 40)
        let rest = Self.take(&queue, upTo: 60)
        #expect(rest.count == 1 && rest[0].bytes == [UInt8](repeating: 7, count: 40))
        #expect(queue.isEmpty)
        #expect(Self.take(&queue, upTo: 60).isEmpty, "an empty queue hands nothing")
    }
}
