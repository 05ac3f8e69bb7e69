import Basics
import Glibc
import Reactor
import Synchronization
import Testing

@Suite("Event loop over loopback sockets")
struct EventLoopTests {
    private func startEcho(threads: Int = 2, limit: Int = 1_000, lineMode: Bool = false) throws -> (EventLoopGroup, Int) {
        let group = try EventLoopGroup(threads: threads, connectionLimit: limit)
        let port = try group.listen(host: "127.0.0.1", port: 0) { _ in EchoHandler(lineMode: lineMode) }
        group.start()
        return (group, port)
    }

    @Test func echoesBytesBack() throws {
        let (group, port) = try startEcho()
        defer { group.stopAndWait() }
        let client = try TestClient(port: port)
        client.send("hello")
        #expect(client.receive(count: 5) == Array("hello".utf8))
    }

    @Test func writesLargePayloadAcrossPartialWrites() throws {
        let (group, port) = try startEcho()
        defer { group.stopAndWait() }
        let client = try TestClient(port: port)
        let payload = (0..<(8 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        // Send on a second thread: the echo fills the socket buffers in both directions.
        let sent = Mutex(false)
        let fd = client.fd
        let sender = try NamedThread(name: "sender") {
            var offset = 0
            while offset < payload.count {
                let written = payload[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, min($0.count, 65_536), 0) }
                if written <= 0 { break }
                offset += written
            }
            sent.withLock { $0 = true }
        }
        let echoed = client.receive(count: payload.count)
        sender.join()
        #expect(echoed.count == payload.count)
        #expect(echoed == payload)
        #expect(sent.withLock { $0 })
    }

    @Test func keepsUnconsumedBytesUntilTheRestArrives() throws {
        let (group, port) = try startEcho(lineMode: true)
        defer { group.stopAndWait() }
        let client = try TestClient(port: port)
        client.send("par")
        usleep(50_000)
        client.send("tial\nnext")
        #expect(client.receive(count: 8) == Array("partial\n".utf8))
        client.send(" line\n")
        #expect(client.receive(count: 10) == Array("next line\n".utf8))
    }

    @Test func closeFlushesQueuedBytesThenSendsFIN() throws {
        let (group, port) = try startEcho(lineMode: true)
        defer { group.stopAndWait() }
        let client = try TestClient(port: port)
        client.send("quit\n")
        let result = client.receiveUntilClosed()
        #expect(result.bytes == Array("bye\n".utf8))
        #expect(result.closed)
    }

    @Test func refusesConnectionsPastTheLimit() throws {
        let (group, port) = try startEcho(threads: 1, limit: 2)
        defer { group.stopAndWait() }
        let first = try TestClient(port: port)
        let second = try TestClient(port: port)
        first.send("a")
        second.send("b")
        #expect(first.receive(count: 1) == [UInt8(ascii: "a")])
        #expect(second.receive(count: 1) == [UInt8(ascii: "b")])
        let third = try TestClient(port: port)
        third.send("c")
        #expect(third.receiveUntilClosed().bytes.isEmpty)
        #expect(group.openConnections == 2)
    }

    @Test func runsMailboxTasksOnTheLoopThread() throws {
        let group = try EventLoopGroup(threads: 2)
        group.start()
        defer { group.stopAndWait() }
        let ran = Atomic<Int>(0)
        for loop in group.loops {
            for _ in 0..<100 {
                loop.execute { ran.add(1, ordering: .relaxed) }
            }
        }
        let deadline = monotonicMilliseconds() + 2_000
        while ran.load(ordering: .relaxed) < 200 && monotonicMilliseconds() < deadline { usleep(1_000) }
        #expect(ran.load(ordering: .relaxed) == 200)
    }

    @Test func manyConnectionsAcrossLoops() throws {
        let (group, port) = try startEcho(threads: 2)
        defer { group.stopAndWait() }
        let clients = try (0..<200).map { _ in try TestClient(port: port) }
        for (index, client) in clients.enumerated() { client.send("\(index % 10)") }
        for (index, client) in clients.enumerated() {
            #expect(client.receive(count: 1) == Array("\(index % 10)".utf8))
        }
        #expect(group.openConnections == 200)
    }
}

@Suite("Event loop group lifecycle")
struct EventLoopGroupLifecycleTests {
    /// Start, serve, stop: every loop thread has ended when `stopAndWait` returns.
    @Test func stopAndWaitJoinsEveryLoopThread() throws {
        let group = try EventLoopGroup(threads: 2, name: "lifecycle")
        let port = try group.listen(host: "127.0.0.1", port: 0) { _ in EchoHandler(lineMode: false) }
        group.start()
        let names = Set(["lifecycle-0", "lifecycle-1"])
        #expect(Set(NamedThread.liveThreadNames()).isSuperset(of: names))
        let client = try TestClient(port: port)
        client.send("ping")
        #expect(client.receive(count: 4) == Array("ping".utf8))
        group.stopAndWait()
        #expect(Set(NamedThread.liveThreadNames()).isDisjoint(with: names))
        group.stopAndWait()  // stopping again is harmless
    }

    /// The graceful stop's wait: bounded while a client stays, prompt once the last one leaves.
    @Test func waitUntilNoConnectionsReturnsWhenTheLastCloses() throws {
        let group = try EventLoopGroup(threads: 1, name: "drain")
        let port = try group.listen(host: "127.0.0.1", port: 0) { _ in EchoHandler(lineMode: false) }
        group.start()
        defer { group.stopAndWait() }
        #expect(group.waitUntilNoConnections(timeoutMilliseconds: 0))
        let client = try TestClient(port: port)
        client.send("x")
        #expect(client.receive(count: 1) == Array("x".utf8))
        #expect(!group.waitUntilNoConnections(timeoutMilliseconds: 50), "a client is still connected")
        let fd = client.fd
        let closer = try NamedThread(name: "drain-closer") {
            usleep(20_000)
            Glibc.shutdown(fd, Int32(SHUT_RDWR))
        }
        #expect(group.waitUntilNoConnections(timeoutMilliseconds: 10_000))
        closer.join()
        #expect(group.openConnections == 0)
    }
}
