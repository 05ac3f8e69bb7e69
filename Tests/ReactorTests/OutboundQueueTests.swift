import Glibc
import Testing

@testable import Reactor

/// The outbound queue against a real socket pair: whatever mix of single appends and batches is
/// queued, the peer reads exactly those bytes in order, across partial writes.
@Suite("OutboundQueue: appends, batches and partial writes")
struct OutboundQueueTests {
    /// A connected pair of non-blocking Unix stream sockets.
    static func socketPair() throws -> (Int32, Int32) {
        var fds: [Int32] = [0, 0]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0, &fds) == 0)
        return (fds[0], fds[1])
    }

    static func readAll(_ fd: Int32) -> [UInt8] {
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count <= 0 { return result }
            result += buffer[0..<count]
        }
    }

    @Test func singlesAndBatchesArriveInOrder() throws {
        let (writer, reader) = try Self.socketPair()
        defer { close(writer); close(reader) }
        var queue = OutboundQueue()
        queue.append(ByteChunk(Array("a".utf8)))
        queue.append(contentsOf: ["bc", "", "def"].map { ByteChunk(Array($0.utf8)) })
        queue.append(ByteChunk(Array("g".utf8)))
        queue.append(contentsOf: [ByteChunk(Array("h".utf8))])
        #expect(queue.byteCount == 8)
        let iovecs = UnsafeMutablePointer<iovec>.allocate(capacity: 4)
        defer { iovecs.deallocate() }
        guard case .drained = queue.flush(fd: writer, iovecs: iovecs, capacity: 4) else {
            Issue.record("expected everything written")
            return
        }
        #expect(queue.isEmpty)
        #expect(String(decoding: Self.readAll(reader), as: UTF8.self) == "abcdefgh")
    }

    @Test func aChunkWrittenInPlaceHoldsExactlyWhatWasWritten() {
        let chunk = ByteChunk(count: 5) { buffer in
            for index in buffer.indices { buffer[index] = UInt8(ascii: "a") + UInt8(index) }
        }
        #expect(chunk.count == 5)
        #expect(chunk.array == Array("abcde".utf8))
        var offered = -1
        let empty = ByteChunk(count: 0) { offered = $0.count }
        #expect(offered == 0 && empty.count == 0)
    }

    @Test func aBatchSurvivesPartialWrites() throws {
        let (writer, reader) = try Self.socketPair()
        defer { close(writer); close(reader) }
        var small: Int32 = 4_096
        setsockopt(writer, SOL_SOCKET, SO_SNDBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        var queue = OutboundQueue()
        var expected: [UInt8] = []
        var batch: [ByteChunk] = []
        for index in 0..<200 {
            let bytes = [UInt8](repeating: UInt8(index % 251), count: 1_000 + index)
            expected += bytes
            batch.append(ByteChunk(bytes))
        }
        queue.append(ByteChunk([7, 7, 7]))
        expected = [7, 7, 7] + expected
        queue.append(contentsOf: batch)
        let iovecs = UnsafeMutablePointer<iovec>.allocate(capacity: 64)
        defer { iovecs.deallocate() }
        var received: [UInt8] = []
        var rounds = 0
        while true {
            rounds += 1
            let result = queue.flush(fd: writer, iovecs: iovecs, capacity: 64)
            received += Self.readAll(reader)
            if case .drained = result { break }
            guard case .wouldBlock = result, rounds < 10_000 else {
                Issue.record("unexpected flush result \(result)")
                return
            }
        }
        received += Self.readAll(reader)
        #expect(rounds > 1, "the small send buffer forces partial writes")
        #expect(received == expected)
        #expect(queue.byteCount == 0)
    }
}
