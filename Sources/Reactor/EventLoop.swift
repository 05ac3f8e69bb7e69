import CLinux
import Glibc
import Synchronization
import TLS

/// One epoll event loop running on its own thread.
///
/// Owns its sockets outright: connections are created, read, written and closed only on this
/// thread, so nothing per connection or per message crosses threads, takes a lock or hops to a
/// task. Other threads talk to a loop only through `execute`, a mailbox woken by an eventfd.
///
/// Each iteration: wait for events, read and hand bytes to handlers, run mailbox tasks and timers,
/// then flush every connection that has queued output once, with one `writev` (corking, as
/// uWebSockets does: everything written during an iteration leaves in one syscall).
public final class EventLoop: @unchecked Sendable {
    /// Position of this loop in its group.
    public let index: Int
    let epollFD: Int32
    let wakeFD: Int32
    let group: GroupShared

    var connections: [Connection?] = []
    private var listeners: [Listener] = []
    var nextRegistration: UInt32 = 2
    var dirty: [Connection] = []
    private var timers: [RepeatingTimer] = []
    private var endOfIterationTasks: [() -> Void] = []
    private var running = true
    private var lastSweep: Int64 = 0
    /// Iterations run so far: an idle loop makes about one a second, a busy-spinning one
    /// thousands (the tests check that a paused, half-closed connection does not spin).
    private(set) var iterationCount = 0

    /// Monotonic milliseconds, updated once per iteration.
    public private(set) var now: Int64 = monotonicMilliseconds()

    /// Read buffer shared by all connections of this loop: an idle connection holds none.
    let readBuffer: UnsafeMutableRawBufferPointer
    let iovecs: UnsafeMutablePointer<iovec>
    /// Where TLS connections' plaintext is decrypted to; allocated on this loop's first TLS read.
    var tlsPlaintextBuffer: UnsafeMutableRawBufferPointer?
    private static let iovecCapacity = 64
    private static let readBufferSize = 64 * 1024

    private let mailbox = Mutex<[@Sendable () -> Void]>([])
    private let mailboxArmed = Atomic<Bool>(false)

    /// Per-connection soft bound on queued output (from the group): past it reading pauses.
    public let outboundSoftLimit: Int
    /// Reading resumes once a paused connection's queue is at or below this (half the bound,
    /// so a peer that drains slowly does not flip reading on and off every iteration).
    let outboundResumeLevel: Int

    /// Bytes the loop's handlers keep per loop (e.g. subscriber lists); set by the server.
    public var context: AnyObject?

    init(index: Int, shared: GroupShared) throws(SystemError) {
        self.index = index
        self.group = shared
        self.outboundSoftLimit = shared.outboundSoftLimit
        self.outboundResumeLevel = shared.outboundSoftLimit / 2
        let epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epollFD >= 0 else { throw SystemError("epoll_create1") }
        let wakeFD = clinux_eventfd()
        guard wakeFD >= 0 else {
            close(epollFD)
            throw SystemError("eventfd")
        }
        self.epollFD = epollFD
        self.wakeFD = wakeFD
        readBuffer = .allocate(byteCount: Self.readBufferSize, alignment: 16)
        iovecs = .allocate(capacity: Self.iovecCapacity)
        // Without the wake-up descriptor the loop would never see its mailbox.
        guard clinux_epoll_ctl(epollFD, EPOLL_CTL_ADD, wakeFD, CLINUX_EPOLLIN, UInt64(UInt32(bitPattern: wakeFD))) == 0 else {
            throw SystemError("epoll_ctl")
        }
    }

    deinit {
        close(epollFD)
        close(wakeFD)
        readBuffer.deallocate()
        iovecs.deallocate()
        tlsPlaintextBuffer?.deallocate()
    }

    // MARK: Cross-thread

    /// Runs `task` on this loop's thread soon. Safe from any thread.
    public func execute(_ task: @escaping @Sendable () -> Void) {
        mailbox.withLock { $0.append(task) }
        if !mailboxArmed.exchange(true, ordering: .acquiringAndReleasing) {
            var one: UInt64 = 1
            _ = Glibc.write(wakeFD, &one, 8)
        }
    }

    /// Asks the loop to finish its current iteration and exit, aborting open connections.
    public func stop() {
        execute { [self] in running = false }
    }

    // MARK: Loop-thread API

    /// Calls `body` every `interval` milliseconds on this loop's thread (at iteration granularity).
    public func every(milliseconds interval: Int64, _ body: @escaping () -> Void) {
        timers.append(RepeatingTimer(interval: interval, next: now + interval, body: body))
    }

    /// Runs `task` once on this loop's thread after this iteration's events and timers, just
    /// before the flush: a place to hand work gathered during the iteration to another thread in
    /// one go (one lock, one wake-up) instead of once per request.
    public func atEndOfIteration(_ task: @escaping () -> Void) {
        endOfIterationTasks.append(task)
    }

    /// Every open connection of this loop.
    public func forEachConnection(_ body: (Connection) -> Void) {
        for case let connection? in connections where connection.state != .closed {
            body(connection)
        }
    }

    /// Stops accepting on this loop's listeners.
    public func closeListeners() {
        for listener in listeners { listener.close() }
        listeners = []
    }

    /// Polls `listener` on this loop. If epoll refuses it, it is closed: with `SO_REUSEPORT` the
    /// kernel would otherwise keep handing it connections that nobody accepts.
    func addListener(_ listener: Listener) {
        // Listener events carry registration 1 in the high half.
        let data = (1 << 32) | UInt64(UInt32(bitPattern: listener.fd))
        guard clinux_epoll_ctl(epollFD, EPOLL_CTL_ADD, listener.fd, CLINUX_EPOLLIN, data) == 0 else {
            listener.close()
            return
        }
        listeners.append(listener)
    }

    func markDirty(_ connection: Connection) {
        if !connection.isDirty {
            connection.isDirty = true
            dirty.append(connection)
        }
    }

    // MARK: Running

    func run() {
        let capacity = 512
        let datas = UnsafeMutablePointer<UInt64>.allocate(capacity: capacity)
        let events = UnsafeMutablePointer<UInt32>.allocate(capacity: capacity)
        defer {
            datas.deallocate()
            events.deallocate()
        }
        while running {
            let timeout = dirty.isEmpty && endOfIterationTasks.isEmpty ? nextTimeout() : 0
            let count = clinux_epoll_wait(epollFD, datas, events, Int32(capacity), timeout)
            now = monotonicMilliseconds()
            iterationCount &+= 1
            if count < 0 && clinux_errno() != EINTR { break }
            for slot in 0..<max(Int(count), 0) {
                dispatch(data: datas[slot], events: events[slot])
            }
            runTimers()
            while !endOfIterationTasks.isEmpty {
                let tasks = endOfIterationTasks
                endOfIterationTasks = []
                for task in tasks { task() }
            }
            flushDirty()
        }
        closeListeners()
        forEachConnection { destroy($0) }
    }

    private func dispatch(data: UInt64, events: UInt32) {
        let fd = Int32(bitPattern: UInt32(truncatingIfNeeded: data))
        let registration = UInt32(truncatingIfNeeded: data >> 32)
        switch registration {
        case 0:
            drainMailbox()
        case 1:
            if let listener = listeners.first(where: { $0.fd == fd }) { accept(from: listener) }
        default:
            guard fd >= 0, Int(fd) < connections.count, let connection = connections[Int(fd)],
                connection.registration == registration
            else { return }  // stale event for a closed or reused fd
            if (connection.isReadPaused || connection.inputEnded) && connection.state == .open {
                // Input is off; only the kernel's unmaskable HUP or ERR can arrive here. Without
                // our own shutdown, HUP means the peer reset the connection: nothing queued can
                // reach it any more.
                if events & (CLINUX_EPOLLERR | CLINUX_EPOLLHUP) != 0 {
                    destroy(connection)
                    return
                }
            } else if events & (CLINUX_EPOLLIN | CLINUX_EPOLLERR | CLINUX_EPOLLHUP | CLINUX_EPOLLRDHUP) != 0 {
                read(connection)
            }
            if events & CLINUX_EPOLLOUT != 0 && connection.state != .closed {
                markDirty(connection)
            }
        }
    }

    private func drainMailbox() {
        var value: UInt64 = 0
        _ = Glibc.read(wakeFD, &value, 8)
        mailboxArmed.store(false, ordering: .releasing)
        let tasks = mailbox.withLock { tasks in
            let taken = tasks
            tasks = []
            return taken
        }
        for task in tasks { task() }
    }

    private func nextTimeout() -> Int32 {
        var earliest = now + 1_000
        for timer in timers where timer.next < earliest { earliest = timer.next }
        return Int32(clamping: max(earliest - now, 0))
    }

    private func runTimers() {
        for timer in timers where timer.next <= now {
            timer.next = now + timer.interval
            timer.body()
        }
        if now - lastSweep >= 250 {
            lastSweep = now
            sweepDeadlines()
            TLSHeapTrim.shared.trimIfDue(now: now)
        }
    }

    /// Checks every connection's deadline; O(connections) four times a second, which at 20,000
    /// connections is a few tens of microseconds.
    private func sweepDeadlines() {
        for case let connection? in connections where connection.deadline <= now {
            switch connection.state {
            case .open where connection.tls?.engine.isHandshakeComplete == false:
                failHandshake(connection, TLSFailure(reason: .timeout, detail: "no handshake within the timeout"))
            case .open:
                connection.setDeadline(nil)
                connection.handler.connectionDeadlinePassed(connection, now: now)
            case .closing, .lingering:
                destroy(connection)
            case .closed:
                break
            }
        }
    }
}

/// A callback that runs every `interval` milliseconds on a loop.
final class RepeatingTimer {
    let interval: Int64
    var next: Int64
    let body: () -> Void

    init(interval: Int64, next: Int64, body: @escaping () -> Void) {
        self.interval = interval
        self.next = next
        self.body = body
    }
}

/// Milliseconds from CLOCK_MONOTONIC.
public func monotonicMilliseconds() -> Int64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return Int64(spec.tv_sec) * 1_000 + Int64(spec.tv_nsec) / 1_000_000
}
