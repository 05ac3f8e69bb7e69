import Glibc
import Reactor

/// A pipelining Redis client on one TCP connection driven by a Reactor event loop.
///
/// Callable from any thread. Commands are queued, and everything queued during one loop
/// iteration leaves in one write; replies are matched in order and completions run on the
/// client's loop thread, in order (they must not block it). A server error reply (`-ERR …`) is a
/// value, `RESPValue.error`; only a missing reply is a `RedisError`.
///
/// By default the client runs on an event loop of its own (one thread, named `redis-0`):
/// the server's loops can spend milliseconds on a fan-out burst, which would delay every
/// ingest acknowledgement and stream read behind it; name resolution on reconnect blocks the
/// thread it runs on; and `sendAndWait` from a server loop would then block the very loop that
/// must read the reply. Passing `loop:` shares an existing loop instead (tests, benchmarks).
///
/// Connection life: connect (with `connectTimeout`), `AUTH` and `SELECT` from the URL, `PING`,
/// then queued commands, then the `onConnected` hook. On a disconnect every command in flight
/// fails with `.connectionLost` (never retried: an EVAL may have run), and the client reconnects
/// after 50 ms doubling to 2 s, with jitter. While disconnected, commands wait (at most
/// `maxQueuedCommands`; beyond, `.unavailable` at once) until sent or their timeout passes.
/// A command without a reply by its timeout fails the connection: everything in flight fails
/// with `.timeout`, and the connection is reopened. Give a blocking command (`XREAD BLOCK ms`)
/// a timeout of its block time plus a margin, and a connection of its own: commands behind it
/// wait for it.
public final class RedisClient: Sendable {
    /// Connection settings.
    public struct Configuration: Sendable {
        /// Where to connect, with credentials and database.
        public var url: RedisURL
        /// Milliseconds for TCP connect plus the AUTH/SELECT/PING handshake.
        public var connectTimeout: Int64 = 2_000
        /// Default milliseconds from `send` to the last reply.
        public var commandTimeout: Int64 = 5_000
        /// Most commands kept while not connected.
        public var maxQueuedCommands = 10_000
        /// First reconnect delay, milliseconds (doubled per failed attempt, with jitter).
        public var reconnectDelayMinimum: Int64 = 50
        /// Largest reconnect delay, milliseconds.
        public var reconnectDelayMaximum: Int64 = 2_000
        /// Bounds on replies.
        public var decoderLimits = RESPDecoder.Limits()

        /// Settings for `url`, with the defaults above.
        public init(url: RedisURL) {
            self.url = url
        }
    }

    /// The settings in force.
    public let configuration: Configuration
    let shared = RedisClientShared()
    private let driver: RedisConnectionDriver
    private let loop: EventLoop
    private let ownedGroup: EventLoopGroup?

    /// Starts a client and its first connect. With `loop` nil it creates and owns a one-thread
    /// event loop group (see the type's documentation); `close()` stops it.
    public init(configuration: Configuration, loop: EventLoop? = nil) throws(SystemError) {
        self.configuration = configuration
        if let loop {
            self.loop = loop
            ownedGroup = nil
        } else {
            let group = try EventLoopGroup(threads: 1, connectionLimit: 16, name: "redis")
            group.start()
            self.loop = group.loops[0]
            ownedGroup = group
        }
        let driver = RedisConnectionDriver(loop: self.loop, configuration: configuration, shared: shared)
        self.driver = driver
        self.loop.execute { driver.start() }
    }

    /// A client dropped without `close()` closes itself, so its own loop's thread ends too.
    deinit {
        close()
    }

    /// Called on the loop thread after every successful (re)connect, once the handshake is done
    /// and commands that waited are written: where an owner re-issues what a new connection
    /// needs (a stream reader resumes from its last id). It must not block.
    public func setOnConnected(_ body: (@Sendable () -> Void)?) {
        shared.setOnConnected(body)
    }

    /// Whether the connection is up (handshake done).
    public var isConnected: Bool { shared.isConnected.load(ordering: .acquiring) }

    /// Successful handshakes so far (the first connect and every reconnect).
    public var connectionCount: Int { shared.connections.load(ordering: .relaxed) }

    /// The last connect, handshake or protocol failure, for logs.
    public var lastConnectError: String? { shared.lastConnectError }

    /// Sends one command (name and arguments, binary-safe). `timeout` in milliseconds defaults
    /// to `configuration.commandTimeout`; `completion` runs once, on the loop thread.
    public func send(
        _ command: [[UInt8]], timeout: Int64? = nil, completion: @escaping @Sendable (Result<RESPValue, RedisError>) -> Void
    ) {
        enqueue(replies: 1, timeout: timeout, completion: .single(completion)) { RESPEncoder.appendCommand(command, to: &$0) }
    }

    /// Sends several commands in one write; `completion` gets all their replies, in order (or one
    /// failure for the whole batch).
    public func send(
        batch commands: [[[UInt8]]], timeout: Int64? = nil,
        completion: @escaping @Sendable (Result<[RESPValue], RedisError>) -> Void
    ) {
        guard !commands.isEmpty else {
            completion(.success([]))
            return
        }
        enqueue(replies: commands.count, timeout: timeout, completion: .batch(completion)) { buffer in
            for command in commands { RESPEncoder.appendCommand(command, to: &buffer) }
        }
    }

    private func enqueue(replies: Int, timeout: Int64?, completion: RedisCompletion, encode: (inout [UInt8]) -> Void) {
        let deadline = monotonicMilliseconds() + max(timeout ?? configuration.commandTimeout, 1)
        switch shared.submit(replies: replies, deadline: deadline, completion: completion, encode: encode) {
        case nil:
            completion.fail(.closed)
        case true?:
            let driver = self.driver
            loop.execute { driver.drainSubmissions() }
        case false?:
            break
        }
    }

    /// Whether the calling thread is the client's loop thread.
    var isOnLoopThread: Bool {
        let thread = shared.loopThread.load(ordering: .acquiring)
        return thread != 0 && pthread_equal(pthread_self(), pthread_t(thread)) != 0
    }

    /// Fails everything pending with `.closed`, closes the connection and, if the client owns
    /// its loop, stops it and joins its thread (from a completion, on that thread, the loop is
    /// stopped but cannot be joined). Dropping the client closes it too.
    public func close() {
        guard shared.markClosed() else { return }
        let driver = self.driver
        loop.execute { driver.shutdown() }
        guard let ownedGroup else { return }
        if isOnLoopThread {
            for loop in ownedGroup.loops { loop.stop() }
        } else {
            ownedGroup.stopAndWait()
        }
    }

    /// The timeout for a blocking command (`XREAD BLOCK ms`, `BLPOP`): its block time plus a
    /// margin for the round trip and a busy server, so an idle stream is not taken for a dead
    /// connection.
    public static func timeout(blockingFor milliseconds: Int64, margin: Int64 = 1_000) -> Int64 {
        max(milliseconds, 0) + max(margin, 0)
    }

    /// Command bytes from text parts, for commands whose arguments are text.
    public static func command(_ parts: String...) -> [[UInt8]] {
        parts.map { Array($0.utf8) }
    }
}
