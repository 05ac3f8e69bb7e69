import Glibc
import Reactor
import Synchronization
import Testing

@testable import LoadTestKit

/// Records what an `HTTPClient` reports (called on the loop's thread, read by the test).
final class PipelineRecorder: HTTPClientDelegate, Sendable {
    let responses = Mutex<[(status: Int, sentAt: UInt64, tag: Int)]>([])
    let closed = Mutex<[[Int]]>([])

    func httpClient(_ client: HTTPClient, received response: HTTPResponse, sentAt: UInt64, tag: Int) {
        responses.withLock { $0.append((response.status, sentAt, tag)) }
    }

    func httpClientClosed(_ client: HTTPClient, unanswered: [HTTPPipeline.Entry], reason: String) {
        closed.withLock { $0.append(unanswered.map(\.tag)) }
    }
}

/// An `HTTPClient` on a real event loop, its peer the other end of a socket pair driven by the test.
final class PipelineHarness: Sendable {
    static let request = Array("POST /api/transactions HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".utf8)
    let group: EventLoopGroup
    let peer: Int32
    let recorder = PipelineRecorder()

    init(depth: Int) throws {
        var fds: [Int32] = [0, 0]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        _ = setsockopt(fds[1], SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        peer = fds[1]
        group = try EventLoopGroup(threads: 1)
        group.start()
        let clientFD = fds[0]
        let recorder = recorder
        onLoop { loop in
            let client = HTTPClient(index: 0, depth: depth, delegate: recorder)
            loop.context = client
            _ = loop.register(fd: clientFD, handler: client)
        }
    }

    deinit {
        group.stopAndWait()
        close(peer)
    }

    /// Runs `body` on the loop's thread with the client and waits for its answer.
    @discardableResult
    func onLoop<Value: Sendable>(_ body: @escaping @Sendable (EventLoop) -> Value) -> Value? {
        let answer = Mutex<Value?>(nil)
        let loop = group.loops[0]
        loop.execute { answer.withLock { $0 = body(loop) } }
        for _ in 0..<5_000 {
            if let value = answer.withLock({ $0 }) { return value }
            usleep(1_000)
        }
        return nil
    }

    /// Sends one request per tag (send time = tag); returns how many the client has in flight and
    /// whether it takes more.
    func send(tags: [Int]) -> (inFlight: Int, isIdle: Bool)? {
        onLoop { loop in
            guard let client = loop.context as? HTTPClient else { return (-1, false) }
            for tag in tags { client.send(ByteChunk(Self.request), tag: tag, now: UInt64(tag)) }
            return (client.pipeline.count, client.isIdle)
        }
    }

    /// Reads exactly `count` bytes at the peer (nil on timeout or close).
    func read(count: Int) -> [UInt8]? {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4_096)
        while bytes.count < count {
            let got = Glibc.read(peer, &buffer, min(buffer.count, count - bytes.count))
            guard got > 0 else { return nil }
            bytes += buffer[0..<got]
        }
        return bytes
    }

    /// Whether no further byte arrives at the peer within 50 ms (the client closing is not a byte).
    func nothingMoreSent() -> Bool {
        var poller = pollfd(fd: peer, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, 50) > 0 else { return true }
        var byte: UInt8 = 0
        return recv(peer, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) <= 0
    }

    func write(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(peer, $0.baseAddress, $0.count) }
    }

    /// Waits until `condition` holds for the recorder (at most 5 s).
    func wait(until condition: (PipelineRecorder) -> Bool) -> Bool {
        for _ in 0..<5_000 {
            if condition(recorder) { return true }
            usleep(1_000)
        }
        return false
    }
}

@Suite("HTTPClient pipelining over a real event loop", .serialized)
struct HTTPClientPipeliningTests {
    static func response(_ status: Int, close: Bool = false) -> String {
        "HTTP/1.1 \(status) X\r\nContent-Length: 2\r\n\(close ? "Connection: close\r\n" : "")\r\nok"
    }

    @Test("Up to depth requests leave before any response; responses in one read match them oldest first")
    func inOrder() throws {
        let harness = try PipelineHarness(depth: 3)
        let state = harness.send(tags: [10, 20, 30, 40])
        #expect(state?.inFlight == 3)
        #expect(state?.isIdle == false)
        let sent = try #require(harness.read(count: 3 * PipelineHarness.request.count))
        #expect(sent == PipelineHarness.request + PipelineHarness.request + PipelineHarness.request)
        #expect(harness.nothingMoreSent())
        harness.write(Self.response(201) + Self.response(200) + Self.response(429))
        #expect(harness.wait { $0.responses.withLock { $0.count } == 3 })
        let responses = harness.recorder.responses.withLock { $0 }
        #expect(responses.map(\.tag) == [10, 20, 30])
        #expect(responses.map(\.sentAt) == [10, 20, 30])
        #expect(responses.map(\.status) == [201, 200, 429])
        let after = harness.send(tags: [])
        #expect(after?.inFlight == 0)
        #expect(after?.isIdle == true)
    }

    @Test("A closed connection reports the requests it left unanswered, oldest first")
    func closeWithRequestsInFlight() throws {
        let harness = try PipelineHarness(depth: 4)
        _ = harness.send(tags: [1, 2, 3])
        _ = try #require(harness.read(count: 3 * PipelineHarness.request.count))
        harness.write(Self.response(201))
        #expect(harness.wait { $0.responses.withLock { $0.count } == 1 })
        shutdown(harness.peer, Int32(SHUT_RDWR))
        #expect(harness.wait { !$0.closed.withLock { $0.isEmpty } })
        #expect(harness.recorder.closed.withLock { $0 } == [[2, 3]])
        #expect(harness.recorder.responses.withLock { $0.map(\.tag) } == [1])
    }

    @Test("Connection: close delivers that response, sends nothing more, and reports the rest unanswered")
    func serverCloses() throws {
        let harness = try PipelineHarness(depth: 4)
        _ = harness.send(tags: [5, 6])
        _ = try #require(harness.read(count: 2 * PipelineHarness.request.count))
        harness.write(Self.response(201, close: true))
        #expect(harness.wait { $0.responses.withLock { $0.count } == 1 })
        let afterClose = harness.send(tags: [7])
        #expect(afterClose?.isIdle == false)
        #expect(harness.nothingMoreSent())
        shutdown(harness.peer, Int32(SHUT_RDWR))
        #expect(harness.wait { !$0.closed.withLock { $0.isEmpty } })
        #expect(harness.recorder.responses.withLock { $0.map(\.tag) } == [5])
        #expect(harness.recorder.closed.withLock { $0 } == [[6]])
    }

    @Test("An unsolicited response closes the connection")
    func unsolicited() throws {
        let harness = try PipelineHarness(depth: 2)
        _ = harness.send(tags: [])
        harness.write(Self.response(200))
        #expect(harness.wait { !$0.closed.withLock { $0.isEmpty } })
        #expect(harness.recorder.responses.withLock { $0.isEmpty })
        #expect(harness.recorder.closed.withLock { $0 } == [[]])
    }
}
