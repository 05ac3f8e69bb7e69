import Basics
import CLinux
import Glibc
import Synchronization

/// A fixed set of event loops, one thread each (default: one per core).
///
/// `start()` starts a ``NamedThread`` per loop; `stopAndWait()` stops the loops and joins them.
public final class EventLoopGroup: Sendable {
    /// The loops, in index order.
    public let loops: [EventLoop]
    let shared: GroupShared
    /// The loops' threads while started.
    private let threads = Mutex<[NamedThread]>([])
    /// The loop threads' name prefix: they are named `<name>-<index>`.
    public let name: String

    /// The default soft bound on one connection's queued output, 256 KiB.
    ///
    /// The queue only holds what the kernel's send buffer (hundreds of KiB to a few MiB once
    /// autotuned) has refused, so a peer that reads at any pace rarely reaches it, while one
    /// that does not read costs at most this much (plus one handler call's replies) per
    /// connection: 10,000 such peers stay within about 2.5 GiB instead of growing without end.
    /// It is far below the 4 MiB hard bound at which the server closes a stream subscriber, so
    /// events keep flowing to a subscriber whose input is paused.
    public static let defaultOutboundSoftLimit = 256 << 10

    /// Creates `threads` loops; call `start()` to run them.
    /// The connection limit is capped to what the process may open: the soft descriptor limit is
    /// raised to the hard one, and 64 descriptors are kept for listeners, the journal and files.
    /// `outboundSoftLimit` bounds each connection's queued output: past it the loop stops
    /// reading from that connection until the queue drains below half of it.
    public init(
        threads: Int, connectionLimit: Int = 100_000, outboundSoftLimit: Int = EventLoopGroup.defaultOutboundSoftLimit,
        name: String = "loop"
    ) throws(SystemError) {
        clinux_ignore_sigpipe()
        let shared = GroupShared(
            connectionLimit: min(connectionLimit, Self.raiseDescriptorLimit() - 64), outboundSoftLimit: max(outboundSoftLimit, 1))
        var loops: [EventLoop] = []
        for index in 0..<max(threads, 1) {
            loops.append(try EventLoop(index: index, shared: shared))
        }
        self.loops = loops
        self.shared = shared
        self.name = name
    }

    /// Raises the soft RLIMIT_NOFILE to the hard limit; returns the limit in force.
    static func raiseDescriptorLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1_024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return Int(clamping: limit.rlim_cur)
    }

    /// Connections open right now, across all loops.
    public var openConnections: Int { shared.open.load(ordering: .relaxed) }

    /// Blocks until no connection is open or `milliseconds` have passed; returns whether none is
    /// open. For a graceful stop: the loops wake the waiter when the last connection closes.
    public func waitUntilNoConnections(timeoutMilliseconds milliseconds: Int) -> Bool {
        shared.waitingForZero.store(true, ordering: .sequentiallyConsistent)
        defer { shared.waitingForZero.store(false, ordering: .sequentiallyConsistent) }
        let shared = self.shared
        return shared.lastClosed.withLock(
            when: { _ in shared.open.load(ordering: .sequentiallyConsistent) == 0 }, timeoutMilliseconds: milliseconds
        ) { _ in shared.open.load(ordering: .sequentiallyConsistent) == 0 }
    }

    /// The per-connection soft bound on queued output (see `init`).
    public var outboundSoftLimit: Int { shared.outboundSoftLimit }

    /// Most connections open at once; more are accepted and reset at once.
    public var connectionLimit: Int { shared.connectionLimit }

    /// Connections reset at accept because `connectionLimit` were open.
    public var refusedConnections: Int { shared.refused.load(ordering: .relaxed) }

    /// Binds one `SO_REUSEPORT` listener per loop to `host:port` (0 picks a free port, shared by
    /// all loops) and returns the bound port. `makeHandler` runs on the accepting loop's thread.
    /// With `tls`, every accepted connection speaks TLS; handlers see only plaintext.
    public func listen(
        host: String, port: Int, tls: TLSAcceptor? = nil, makeHandler: @escaping @Sendable (EventLoop) -> ConnectionHandler
    ) throws(SystemError) -> Int {
        var boundPort = port
        var bound: [(EventLoop, Int32)] = []
        do {
            for loop in loops {
                let result = try Listener.bind(host: host, port: boundPort)
                boundPort = result.port
                bound.append((loop, result.fd))
            }
        } catch {
            for (_, fd) in bound { Glibc.close(fd) }
            throw error
        }
        for (loop, fd) in bound {
            loop.execute {
                loop.addListener(Listener(fd: fd, tls: tls, makeHandler: { makeHandler(loop) }))
            }
        }
        return boundPort
    }

    /// Starts one thread per loop, named `<name>-<index>`. A process that cannot start them
    /// cannot serve, so a failure stops it with the system's reason.
    public func start() {
        threads.withLock { threads in
            for loop in loops {
                do {
                    threads.append(try NamedThread(name: "\(name)-\(loop.index)") { loop.run() })
                } catch {
                    preconditionFailure("cannot start event loop \(loop.index)'s thread: \(error)")
                }
            }
        }
    }

    /// Stops every loop (open connections are aborted) and joins their threads. Call from a
    /// thread that is not one of the loops.
    public func stopAndWait() {
        for loop in loops { loop.stop() }
        let started = threads.withLock { threads in
            let started = threads
            threads = []
            return started
        }
        for thread in started { thread.join() }
    }
}

/// State the loops of one group share: connection accounting and liveness.
final class GroupShared: Sendable {
    let connectionLimit: Int
    let outboundSoftLimit: Int
    let open = Atomic<Int>(0)
    /// Set while `waitUntilNoConnections` waits; only then does closing the last connection
    /// take `lastClosed` (so an ordinary close costs no lock).
    let waitingForZero = Atomic<Bool>(false)
    /// Wakes `waitUntilNoConnections` (its state is unused: the count is `open`).
    let lastClosed = ConditionLock(())
    /// Connections refused at accept because the group was at its connection limit.
    let refused = Atomic<Int>(0)

    init(connectionLimit: Int, outboundSoftLimit: Int) {
        self.connectionLimit = connectionLimit
        self.outboundSoftLimit = outboundSoftLimit
    }

    /// Counts a new connection unless the limit is reached.
    func reserveConnection() -> Bool {
        let after = open.add(1, ordering: .relaxed).newValue
        if after > connectionLimit {
            open.subtract(1, ordering: .relaxed)
            refused.add(1, ordering: .relaxed)
            return false
        }
        return true
    }

    func releaseConnection() {
        let after = open.subtract(1, ordering: .sequentiallyConsistent).newValue
        // Sequentially consistent with the waiter's flag-then-count: either this close sees the
        // flag, or the waiter sees the count it left.
        if after == 0 && waitingForZero.load(ordering: .sequentiallyConsistent) {
            lastClosed.withLock { _ in }
            lastClosed.broadcast()
        }
    }
}
