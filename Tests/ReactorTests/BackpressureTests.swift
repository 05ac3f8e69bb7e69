import Glibc
import Synchronization
import Testing

@testable import Reactor

/// What the handlers of these tests saw, readable from the test thread.
final class BackpressureProbe: Sendable {
    /// Bytes the handler consumed (each answered with one reply).
    let consumed = Atomic<Int>(0)
    /// Largest queued output seen right after a reply was queued.
    let largestQueue = Atomic<Int>(0)
    /// Times the handler was told the peer finished sending.
    let readEnded = Atomic<Int>(0)
    /// Largest input offered in one call (recorded by `GreedyHandler`).
    let largestOffer = Atomic<Int>(0)
    /// Times the handler was called with input.
    let calls = Atomic<Int>(0)
    /// Whether the handler consumes input (false: it waits, as for an answer from another thread).
    let accepting: Atomic<Bool>

    init(accepting: Bool = true) {
        self.accepting = Atomic(accepting)
    }
}

/// Answers every byte it consumes (one per call) with the same 64 KiB chunk, and makes the
/// kernel hold little of it (a small fixed send buffer), so the queue grows while the peer does
/// not read. While the probe is not `accepting` it consumes nothing (a handler waiting on
/// another thread), so the loop keeps the input and suspends reading past its leftover bound;
/// with `amplifies == false` it then consumes everything silently.
final class AmplifyingHandler: ConnectionHandler {
    static let reply = ByteChunk([UInt8](repeating: 0x61, count: 65_536))
    let probe: BackpressureProbe
    let amplifies: Bool

    init(probe: BackpressureProbe, amplifies: Bool = true) {
        self.probe = probe
        self.amplifies = amplifies
    }

    func connectionOpened(_ connection: Connection) {
        var size: Int32 = 65_536
        setsockopt(connection.fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    }

    func connectionReceived(_ connection: Connection, _ bytes: UnsafeRawBufferPointer) -> Int {
        probe.calls.add(1, ordering: .relaxed)
        guard probe.accepting.load(ordering: .relaxed) else { return 0 }
        guard amplifies else { return bytes.count }
        connection.write(Self.reply)
        probe.consumed.add(1, ordering: .relaxed)
        let queued = connection.pendingOutboundBytes
        if queued > probe.largestQueue.load(ordering: .relaxed) { probe.largestQueue.store(queued, ordering: .relaxed) }
        return 1
    }

    func connectionReadEnded(_ connection: Connection) {
        probe.readEnded.add(1, ordering: .relaxed)
        connection.close()
    }
}

/// Consumes everything it is offered (once the probe is `accepting`) and answers every byte with
/// eight: a handler that answers all pipelined requests of one call at once.
final class GreedyHandler: ConnectionHandler {
    let probe: BackpressureProbe

    init(probe: BackpressureProbe) { self.probe = probe }

    func connectionReceived(_ connection: Connection, _ bytes: UnsafeRawBufferPointer) -> Int {
        probe.calls.add(1, ordering: .relaxed)
        guard probe.accepting.load(ordering: .relaxed) else { return 0 }
        if bytes.count > probe.largestOffer.load(ordering: .relaxed) { probe.largestOffer.store(bytes.count, ordering: .relaxed) }
        connection.write(ByteChunk(count: bytes.count * 8) { $0.initializeMemory(as: UInt8.self, repeating: 0x62) })
        probe.consumed.add(bytes.count, ordering: .relaxed)
        let queued = connection.pendingOutboundBytes
        if queued > probe.largestQueue.load(ordering: .relaxed) { probe.largestQueue.store(queued, ordering: .relaxed) }
        return bytes.count
    }
}

/// What a loop reports about its only connection.
struct ConnectionSnapshot: Sendable {
    var pausedForBackpressure = false
    var suspended = false
    var pollsInput = false
    var iterations = 0
}

@Suite("Backpressure: reading pauses while a connection's queue is over the soft bound")
struct BackpressureTests {
    static let softLimit = 256 << 10

    private func start(probe: BackpressureProbe, amplifies: Bool = true) throws -> (EventLoopGroup, Int) {
        let group = try EventLoopGroup(threads: 1, connectionLimit: 100, outboundSoftLimit: Self.softLimit)
        let port = try group.listen(host: "127.0.0.1", port: 0) { _ in AmplifyingHandler(probe: probe, amplifies: amplifies) }
        group.start()
        return (group, port)
    }

    /// Runs on the loop thread and returns what it sees of the (single) connection.
    private func snapshot(_ loop: EventLoop, resuming: Bool = false) -> ConnectionSnapshot {
        let result = Mutex<ConnectionSnapshot?>(nil)
        loop.execute {
            var seen = ConnectionSnapshot()
            loop.forEachConnection { connection in
                if resuming { connection.resumeProcessing() }
                seen.pausedForBackpressure = connection.isReadPausedForBackpressure
                seen.suspended = connection.readSuspended
                seen.pollsInput = connection.isPollingInput
            }
            seen.iterations = loop.iterationCount
            result.withLock { $0 = seen }
        }
        let deadline = monotonicMilliseconds() + 2_000
        while monotonicMilliseconds() < deadline {
            if let seen = result.withLock({ $0 }) { return seen }
            usleep(1_000)
        }
        return ConnectionSnapshot()
    }

    /// Waits until `value` stops changing for 200 ms (at most 3 s); returns its last value.
    private func settled(_ value: () -> Int) -> Int {
        var last = value()
        let deadline = monotonicMilliseconds() + 3_000
        while monotonicMilliseconds() < deadline {
            usleep(200_000)
            let now = value()
            if now == last { return now }
            last = now
        }
        return last
    }

    @Test func queueStopsNearTheSoftBoundAndReadingResumesAfterTheDrain() throws {
        let probe = BackpressureProbe()
        let (group, port) = try start(probe: probe)
        defer { group.stopAndWait() }
        let client = try TestClient(port: port, receiveBuffer: 16_384)
        let requests = 200
        client.send([UInt8](repeating: 0x78, count: requests))

        let consumedWhilePaused = settled { probe.consumed.load(ordering: .relaxed) }
        // 200 × 64 KiB = 12.5 MiB would be queued without the bound; the kernel holds a few
        // hundred KiB, the queue at most the bound plus one reply.
        #expect(consumedWhilePaused < 20)
        #expect(probe.largestQueue.load(ordering: .relaxed) <= Self.softLimit + AmplifyingHandler.reply.count)
        let paused = snapshot(group.loops[0])
        #expect(paused.pausedForBackpressure)
        #expect(!paused.pollsInput)

        // A handler's own resume (the other reason to pause) does not override backpressure.
        let afterResume = snapshot(group.loops[0], resuming: true)
        #expect(afterResume.pausedForBackpressure)
        usleep(100_000)
        #expect(probe.consumed.load(ordering: .relaxed) == consumedWhilePaused)

        // The peer drains: every request is answered, in full.
        let received = client.receive(count: requests * AmplifyingHandler.reply.count)
        #expect(received.count == requests * AmplifyingHandler.reply.count)
        #expect(probe.consumed.load(ordering: .relaxed) == requests)
        let drained = snapshot(group.loops[0])
        #expect(!drained.pausedForBackpressure)
        #expect(drained.pollsInput)
    }

    @Test func halfClosedPeerOfABackpressuredConnectionDoesNotSpinTheLoop() throws {
        let probe = BackpressureProbe()
        let (group, port) = try start(probe: probe)
        defer { group.stopAndWait() }
        let client = try TestClient(port: port, receiveBuffer: 16_384)
        let requests = 100
        client.send([UInt8](repeating: 0x78, count: requests))
        _ = settled { probe.consumed.load(ordering: .relaxed) }
        #expect(snapshot(group.loops[0]).pausedForBackpressure)
        shutdown(client.fd, Int32(SHUT_WR))

        let before = snapshot(group.loops[0]).iterations
        usleep(500_000)
        let after = snapshot(group.loops[0]).iterations
        // An idle loop wakes about once a second (plus the two snapshot tasks); a spinning one
        // runs tens of thousands of iterations in half a second.
        #expect(after - before < 20)
        #expect(probe.readEnded.load(ordering: .relaxed) == 0)

        // Once drained, the remaining input is answered and the EOF is seen exactly once.
        let result = client.receiveUntilClosed()
        #expect(result.closed)
        #expect(result.bytes.count == requests * AmplifyingHandler.reply.count)
        #expect(probe.readEnded.load(ordering: .relaxed) == 1)
    }

    @Test func halfClosedPeerOfASuspendedConnectionDoesNotSpinTheLoop() throws {
        let probe = BackpressureProbe(accepting: false)
        let (group, port) = try start(probe: probe, amplifies: false)
        defer { group.stopAndWait() }
        let client = try TestClient(port: port)
        // Past the 1 MiB of kept input, the loop suspends reading until the handler resumes (all
        // of it is read by then, so the FIN reaches the server's socket).
        client.send([UInt8](repeating: 0x78, count: (1 << 20) + 16_384))
        _ = settled { probe.calls.load(ordering: .relaxed) }
        #expect(snapshot(group.loops[0]).suspended)
        shutdown(client.fd, Int32(SHUT_WR))

        let before = snapshot(group.loops[0]).iterations
        usleep(500_000)
        let after = snapshot(group.loops[0]).iterations
        #expect(after - before < 20)
        #expect(probe.readEnded.load(ordering: .relaxed) == 0)

        // The handler resumes: reading restarts, and the EOF is reported once.
        probe.accepting.store(true, ordering: .relaxed)
        _ = snapshot(group.loops[0], resuming: true)
        _ = settled { probe.readEnded.load(ordering: .relaxed) }
        #expect(probe.readEnded.load(ordering: .relaxed) == 1)
    }

    @Test func keptInputIsOfferedInSlicesSoOneCallCannotQueueWithoutBound() throws {
        let probe = BackpressureProbe(accepting: false)
        let group = try EventLoopGroup(threads: 1, connectionLimit: 100, outboundSoftLimit: Self.softLimit)
        let port = try group.listen(host: "127.0.0.1", port: 0) { _ in GreedyHandler(probe: probe) }
        group.start()
        defer { group.stopAndWait() }
        let client = try TestClient(port: port, receiveBuffer: 16_384)
        // The handler waits while 1 MiB arrives: all of it is kept, then offered at once.
        let sent = (1 << 20) + 16_384
        client.send([UInt8](repeating: 0x78, count: sent))
        _ = settled { probe.calls.load(ordering: .relaxed) }
        #expect(snapshot(group.loops[0]).suspended)
        probe.accepting.store(true, ordering: .relaxed)
        _ = snapshot(group.loops[0], resuming: true)
        _ = settled { probe.consumed.load(ordering: .relaxed) }

        let largestOffer = probe.largestOffer.load(ordering: .relaxed)
        #expect(largestOffer > 0 && largestOffer <= 64 << 10)
        // Eight bytes out per byte in: 8 MiB unbounded; one slice past the bound at most.
        #expect(probe.largestQueue.load(ordering: .relaxed) <= Self.softLimit + 8 * (64 << 10))
        #expect(probe.consumed.load(ordering: .relaxed) < sent)
        #expect(snapshot(group.loops[0]).pausedForBackpressure)

        let received = client.receive(count: sent * 8)
        #expect(received.count == sent * 8)
        #expect(probe.consumed.load(ordering: .relaxed) == sent)
    }

    @Test func aSocketEpollRefusesIsClosedAndItsSlotReleased() throws {
        let group = try EventLoopGroup(threads: 1, connectionLimit: 100)
        let loop = group.loops[0]
        // epoll_ctl(EPOLL_CTL_ADD) fails with EPERM for a regular file.
        let file = try #require(tmpfile())
        let fd = dup(fileno(file))
        fclose(file)
        try #require(fd >= 0)
        let probe = BackpressureProbe()
        let connection = loop.register(fd: fd, handler: AmplifyingHandler(probe: probe))
        #expect(!connection.isOpen)
        #expect(Int(fd) >= loop.connections.count || loop.connections[Int(fd)] == nil)
        // The descriptor was closed.
        #expect(fcntl(fd, F_GETFD) == -1)
    }

    @Test func aListenerEpollRefusesIsClosed() throws {
        let group = try EventLoopGroup(threads: 1, connectionLimit: 100)
        let loop = group.loops[0]
        let file = try #require(tmpfile())
        let fd = dup(fileno(file))
        fclose(file)
        try #require(fd >= 0)
        loop.addListener(Listener(fd: fd, makeHandler: { AmplifyingHandler(probe: BackpressureProbe()) }))
        // Not kept (closing the listeners would close it again) and its descriptor was closed.
        #expect(fcntl(fd, F_GETFD) == -1)
    }
}
