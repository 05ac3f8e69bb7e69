import Glibc
import Reactor

/// The client's connection, confined to its event loop's thread: connects, authenticates,
/// writes pipelined commands, matches replies to requests in order, times out and reconnects.
///
/// Every method runs on the loop's thread (the client reaches it only through
/// `EventLoop.execute`), so the state needs no lock; `@unchecked Sendable` lets those closures
/// carry it.
final class RedisConnectionDriver: ConnectionHandler, @unchecked Sendable {
    /// Where the connection is.
    enum State {
        /// No socket; the next attempt is due at `retryAt` (monotonic ms).
        case disconnected(retryAt: Int64)
        /// Socket open, the AUTH/SELECT/PING handshake has `remaining` replies to come.
        case handshaking(Connection, deadline: Int64, remaining: Int)
        /// Commands flow.
        case ready(Connection)
        /// `close()` was called: nothing more happens.
        case closed
    }

    /// A request written to the socket, waiting for its replies.
    struct InFlight {
        let replyCount: Int
        let deadline: Int64
        let completion: RedisCompletion
        var replies: [RESPValue] = []
    }

    let loop: EventLoop
    let configuration: RedisClient.Configuration
    let shared: RedisClientShared
    private(set) var state: State = .disconnected(retryAt: 0)
    private var decoder: RESPDecoder
    /// Requests not yet written (while not ready); bounded by `maxQueuedCommands`.
    private var waiting = FIFO<RedisRequest>()
    private var inFlight = FIFO<InFlight>()
    /// No in-flight deadline is earlier than this (a lower bound, tightened by `checkDeadlines`).
    private var earliestInFlightDeadline = Int64.max
    private var earliestWaitingDeadline = Int64.max
    /// Delay before the next reconnect attempt; doubles per failure, reset by a handshake.
    private var backoff: Int64
    /// Bytes written during this loop iteration, written as one chunk at its end.
    private var pendingOutput: [UInt8] = []
    private var outputScheduled = false
    /// Set while the driver closes the connection itself, so the close keeps the reason given.
    private var closingDeliberately = false

    init(loop: EventLoop, configuration: RedisClient.Configuration, shared: RedisClientShared) {
        self.loop = loop
        self.configuration = configuration
        self.shared = shared
        self.decoder = RESPDecoder(limits: configuration.decoderLimits)
        self.backoff = configuration.reconnectDelayMinimum
    }

    /// Starts the deadline timer and the first connect (on the loop thread).
    func start() {
        shared.loopThread.store(UInt(pthread_self()), ordering: .releasing)
        // 10 ms: the granularity of command and connect timeouts and of reconnect delays.
        loop.every(milliseconds: 10) { [weak self] in self?.tick() }
        connect()
    }

    // MARK: Submissions

    /// Takes what `send` queued since the last drain and writes or queues it.
    func drainSubmissions() {
        let (bytes, requests) = shared.takeSubmissions()
        if case .ready = state {
            // Connected: every queued command goes out as is, in one piece.
            pendingOutput.append(contentsOf: bytes)
            for request in requests {
                inFlight.append(InFlight(replyCount: request.replyCount, deadline: request.deadline, completion: request.completion))
                earliestInFlightDeadline = min(earliestInFlightDeadline, request.deadline)
            }
            if !requests.isEmpty { scheduleOutput() }
            return
        }
        var offset = 0
        for request in requests {
            let end = offset + request.byteCount
            submit(
                RedisRequest(
                    bytes: Array(bytes[offset..<end]), replyCount: request.replyCount, deadline: request.deadline,
                    completion: request.completion))
            offset = end
        }
    }

    private func submit(_ request: RedisRequest) {
        switch state {
        case .ready:
            write(request)
        case .closed:
            request.completion.fail(.closed)
        case .disconnected, .handshaking:
            if request.deadline <= loop.now {
                request.completion.fail(.timeout)
            } else if waiting.count >= configuration.maxQueuedCommands {
                request.completion.fail(.unavailable)
            } else {
                waiting.append(request)
                earliestWaitingDeadline = min(earliestWaitingDeadline, request.deadline)
            }
        }
    }

    private func write(_ request: RedisRequest) {
        pendingOutput.append(contentsOf: request.bytes)
        inFlight.append(InFlight(replyCount: request.replyCount, deadline: request.deadline, completion: request.completion))
        earliestInFlightDeadline = min(earliestInFlightDeadline, request.deadline)
        scheduleOutput()
    }

    /// Everything appended during this iteration leaves as one chunk, in one `writev`.
    private func scheduleOutput() {
        guard !outputScheduled else { return }
        outputScheduled = true
        loop.atEndOfIteration { [self] in
            outputScheduled = false
            guard !pendingOutput.isEmpty else { return }
            let bytes = pendingOutput
            pendingOutput.removeAll(keepingCapacity: bytes.count <= 1 << 20)
            switch state {
            case .ready(let connection), .handshaking(let connection, _, _): connection.write(bytes)
            case .disconnected, .closed: break
            }
        }
    }

    // MARK: Connecting

    private func connect() {
        switch RedisSocket.startConnect(host: configuration.url.host, port: configuration.url.port) {
        case .failure(let failure):
            shared.setLastConnectError(failure.message)
            scheduleReconnect()
        case .success(let fd):
            let deadline = loop.now + configuration.connectTimeout
            var handshake: [UInt8] = []
            var replies = 1
            let url = configuration.url
            if let password = url.password {
                var command: [[UInt8]] = [Array("AUTH".utf8)]
                if let username = url.username { command.append(Array(username.utf8)) }
                command.append(Array(password.utf8))
                RESPEncoder.appendCommand(command, to: &handshake)
                replies += 1
            }
            if url.database != 0 {
                RESPEncoder.appendCommand([Array("SELECT".utf8), Array(String(url.database).utf8)], to: &handshake)
                replies += 1
            }
            // PING last: its reply shows the server answers commands (not still LOADING).
            RESPEncoder.appendCommand([Array("PING".utf8)], to: &handshake)
            let connection = loop.register(fd: fd, handler: self)
            guard connection.isOpen else {
                shared.setLastConnectError("cannot poll the socket")
                scheduleReconnect()
                return
            }
            state = .handshaking(connection, deadline: deadline, remaining: replies)
            // Written before the connect completes: the kernel refuses with EAGAIN until then,
            // and the loop writes it once the socket turns writable.
            connection.write(handshake)
        }
    }

    private func scheduleReconnect() {
        if case .closed = state { return }
        // Jitter over the upper half: instances that lost Redis together do not all come back
        // in the same millisecond.
        let delay = backoff / 2 + Int64.random(in: 0...max(backoff / 2, 0))
        state = .disconnected(retryAt: loop.now + delay)
        backoff = min(backoff * 2, configuration.reconnectDelayMaximum)
    }

    private func becomeReady(_ connection: Connection) {
        state = .ready(connection)
        backoff = configuration.reconnectDelayMinimum
        shared.connected(true)
        let queued = waiting.removeAll()
        earliestWaitingDeadline = .max
        for request in queued {
            if request.deadline <= loop.now { request.completion.fail(.timeout) } else { write(request) }
        }
        shared.onConnected()?()
    }

    // MARK: ConnectionHandler

    func connectionReceived(_ connection: Connection, _ bytes: UnsafeRawBufferPointer) -> Int {
        var offset = 0
        while offset < bytes.count && connection.isOpen {
            let step: (value: RESPValue?, consumed: Int)
            do {
                step = try decoder.decode(UnsafeRawBufferPointer(rebasing: bytes[offset...]))
            } catch {
                shared.setLastConnectError("\(error)")
                connection.close(abort: true)
                return bytes.count
            }
            offset += step.consumed
            guard let value = step.value else { break }
            deliver(value, on: connection)
        }
        return offset
    }

    private func deliver(_ value: RESPValue, on connection: Connection) {
        switch state {
        case .handshaking(let current, let deadline, let remaining) where current === connection:
            if value.isError {
                let message = value.string ?? ""
                shared.setLastConnectError(message)
                for request in waiting.removeAll() { request.completion.fail(.handshakeFailed(message)) }
                earliestWaitingDeadline = .max
                closingDeliberately = true
                connection.close(abort: true)
            } else if remaining <= 1 {
                becomeReady(connection)
            } else {
                state = .handshaking(connection, deadline: deadline, remaining: remaining - 1)
            }
        case .ready(let current) where current === connection:
            if let first = inFlight.first, first.replyCount == 1 {
                _ = inFlight.popFirst()
                if inFlight.isEmpty { earliestInFlightDeadline = .max }
                first.completion.succeed(value)
                return
            }
            let finished = inFlight.withFirst { entry -> Bool in
                entry.replies.append(value)
                return entry.replies.count >= entry.replyCount
            }
            switch finished {
            case nil:
                shared.setLastConnectError("reply without a request")
                connection.close(abort: true)
            case true?:
                if let entry = inFlight.popFirst() { entry.completion.succeed(entry.replies) }
                if inFlight.isEmpty { earliestInFlightDeadline = .max }
            case false?:
                break
            }
        default:
            break
        }
    }

    func connectionReadEnded(_ connection: Connection) {
        connection.close(abort: true)
    }

    func connectionClosed(_ connection: Connection) {
        switch state {
        case .ready(let current) where current === connection:
            shared.connected(false)
        case .handshaking(let current, _, _) where current === connection:
            // Our own closes (a refused AUTH, a connect timeout) recorded their reason already.
            if !closingDeliberately { shared.setLastConnectError("connection refused or closed during the handshake") }
        default:
            return
        }
        closingDeliberately = false
        decoder = RESPDecoder(limits: configuration.decoderLimits)
        pendingOutput.removeAll()
        failInFlight(.connectionLost)
        scheduleReconnect()
    }

    private func failInFlight(_ error: RedisError) {
        earliestInFlightDeadline = .max
        for entry in inFlight.removeAll() { entry.completion.fail(error) }
    }

    // MARK: Time

    /// Every 10 ms: due reconnects, connect timeouts, expired waiting and in-flight commands.
    func tick() {
        let now = loop.now
        switch state {
        case .disconnected(let retryAt) where retryAt <= now:
            connect()
        case .handshaking(let connection, let deadline, _) where deadline <= now:
            shared.setLastConnectError("connect timeout")
            closingDeliberately = true
            connection.close(abort: true)
        default:
            break
        }
        if earliestWaitingDeadline <= now { expireWaiting(now: now) }
        if earliestInFlightDeadline <= now { checkInFlight(now: now) }
    }

    private func expireWaiting(now: Int64) {
        var kept = FIFO<RedisRequest>()
        earliestWaitingDeadline = .max
        for request in waiting.removeAll() {
            if request.deadline <= now {
                request.completion.fail(.timeout)
            } else {
                kept.append(request)
                earliestWaitingDeadline = min(earliestWaitingDeadline, request.deadline)
            }
        }
        waiting = kept
    }

    /// A command with no reply by its deadline fails the connection: replies are matched by
    /// order, so nothing after it can be answered; everything in flight fails with `.timeout`.
    private func checkInFlight(now: Int64) {
        var earliest = Int64.max
        for entry in inFlight.elements { earliest = min(earliest, entry.deadline) }
        earliestInFlightDeadline = earliest
        guard earliest <= now, case .ready(let connection) = state else { return }
        failInFlight(.timeout)
        connection.close(abort: true)
    }

    // MARK: Closing

    /// Fails everything with `.closed` and closes the socket; no reconnect follows.
    func shutdown() {
        let connection: Connection?
        switch state {
        case .ready(let current), .handshaking(let current, _, _): connection = current
        case .disconnected, .closed: connection = nil
        }
        state = .closed
        shared.connected(false)
        for request in waiting.removeAll() { request.completion.fail(.closed) }
        earliestWaitingDeadline = .max
        failInFlight(.closed)
        for request in shared.takeSubmissions().requests { request.completion.fail(.closed) }
        connection?.close(abort: true)
    }
}
