import Basics
import Broker
import Redis
import Synchronization

/// The ``SharedLog`` of cluster mode on Redis (CLUSTER-CONTRACT.md): one stream,
/// `{syndicast}:stream`, appended by the ingest script (Sources/Cluster/ingest.lua, one `EVALSHA`
/// per commit group) and read by every instance with blocking `XREAD`s on a connection of its own.
///
/// Appends share one ``RedisClient`` (pipelined, its own loop thread); each reading has a client
/// and a thread of its own (``RedisStreamReading``). A failed or timed-out append completes with a
/// failure (the broker answers 503); the idempotency window makes a retry safe.
public final class RedisSharedLog: SharedLog {
    /// Connection and key settings.
    public struct Configuration: Sendable {
        public var url: RedisURL
        /// Seconds of log time an accepted id stays in the window (`--redis-idempotency-ttl`).
        /// Every instance on one Redis must use the same value: the first one records it.
        public var idempotencyTTLSeconds = 86_400
        /// Ids the window holds at most (`--idempotency-window`); the same on every instance.
        public var idempotencyWindow = 1_000_000
        /// Milliseconds for a connect and its handshake.
        public var connectTimeoutMilliseconds: Int64 = 2_000
        /// Milliseconds an append may take before it counts as failed.
        public var appendTimeoutMilliseconds: Int64 = 5_000
        /// Milliseconds one `XREAD` blocks waiting for new entries.
        public var blockMilliseconds: Int64 = 1_000
        /// The stream's key; the other keys share its `{…}` hash tag.
        public var streamKey = "{syndicast}:stream"

        public init(url: RedisURL) {
            self.url = url
        }

        /// The epoch's key: the stream key's hash tag and prefix with `epoch`.
        var epochKey: String { sibling("epoch") }
        /// The key of the records' hash key (32 hex characters).
        var recordKeyKey: String { sibling("idkey") }
        /// The key of the window's bounds every instance must share: `"<ids> <ttl seconds>"`.
        var windowKey: String { sibling("window") }

        /// The key beside the stream named `name`, with its hash tag.
        private func sibling(_ name: String) -> String { String(streamKey.dropLast("stream".count)) + name }

        /// The window's bounds as recorded in Redis.
        var windowText: String { "\(idempotencyWindow) \(idempotencyTTLSeconds)" }

        /// The client settings for one connection.
        var client: RedisClient.Configuration {
            var configuration = RedisClient.Configuration(url: url)
            configuration.connectTimeout = connectTimeoutMilliseconds
            configuration.commandTimeout = appendTimeoutMilliseconds
            return configuration
        }
    }

    /// What the log reports for the operator's log (on a reading's thread).
    public enum Event: Sendable, Equatable {
        /// A reading lost Redis (`reason`); it retries with backoff.
        case connectionLost(String)
        /// The reading is connected again and reads on from its last entry.
        case connectionRestored
        /// Entries after the reading's position were removed from the stream: reading on would
        /// leave a hole, so the reading stopped. Restart the instance (it loads the snapshot).
        case gap(String)
    }

    public let configuration: Configuration
    public let epoch: String
    public let records: SharedLogRecords
    private let writer: RedisClient
    private let script = RedisScript(source: PackageResources.ingest_lua)
    private let streamKey: [UInt8]
    private let signals = Signals()

    /// What the readings share with the log: where events go, how many are disconnected.
    private final class Signals: Sendable {
        let handler = Mutex<(@Sendable (Event) -> Void)?>(nil)
        let disconnectedReadings = Atomic<Int>(0)
    }

    /// Connects, then reads (or creates, with `SET NX`) the epoch, the records' key and the
    /// window's bounds (refusing bounds other than this instance's). Throws a ``RedisSharedLogError``
    /// naming the URL (without password) when Redis cannot be reached or refuses.
    public init(configuration: Configuration) throws(RedisSharedLogError) {
        self.configuration = configuration
        streamKey = Array(configuration.streamKey.utf8)
        let writer: RedisClient
        do { writer = try RedisClient(configuration: configuration.client) } catch {
            throw RedisSharedLogError("cannot start the Redis client: \(error)")
        }
        self.writer = writer
        let wait = configuration.connectTimeoutMilliseconds + 1_000
        let url = configuration.url
        /// Sends `command` about `key` and waits for its reply; closes the client and throws when
        /// Redis cannot be reached or refuses.
        func send(_ command: [[UInt8]], about key: String) throws(RedisSharedLogError) -> RESPValue {
            switch writer.sendAndWait(command, timeout: wait) {
            case .failure(let error):
                writer.close()
                let cause = writer.lastConnectError.map { " (\($0))" } ?? ""
                throw RedisSharedLogError("Redis at \(url) cannot be reached: \(error)\(cause)")
            case .success(let reply) where reply.isError:
                writer.close()
                throw RedisSharedLogError("Redis at \(url) refused \(key): \(reply.description)")
            case .success(let reply):
                return reply
            }
        }
        /// Sets `key` to `value` unless it exists, then reads what it holds.
        func setOnce(_ key: String, _ value: String) throws(RedisSharedLogError) -> String {
            _ = try send(RedisClient.command("SET", key, value, "NX"), about: key)
            return try send(RedisClient.command("GET", key), about: key).string ?? ""
        }
        let epoch = try setOnce(configuration.epochKey, Self.randomHex())
        guard epoch.utf8.count == 16, epoch.utf8.allSatisfy(Self.isLowerHex) else {
            writer.close()
            throw RedisSharedLogError("Redis at \(url): \(configuration.epochKey) is not 16 lowercase hex characters: \(epoch)")
        }
        self.epoch = epoch
        let key = try setOnce(configuration.recordKeyKey, SharedLogRecords.randomHexKey())
        guard let records = SharedLogRecords(hexKey: key) else {
            writer.close()
            throw RedisSharedLogError("Redis at \(url): \(configuration.recordKeyKey) is not 32 lowercase hex characters")
        }
        self.records = records
        let window = try setOnce(configuration.windowKey, configuration.windowText)
        guard window == configuration.windowText else {
            writer.close()
            let parts = window.split(separator: " ")
            let recorded =
                parts.count == 2 ? "--idempotency-window \(parts[0]) --redis-idempotency-ttl \(parts[1])" : "\"\(window)\""
            throw RedisSharedLogError(
                "the instances on Redis at \(url) remember ids with \(recorded) (\(configuration.windowKey)); this one was started with "
                    + "--idempotency-window \(configuration.idempotencyWindow) --redis-idempotency-ttl \(configuration.idempotencyTTLSeconds): "
                    + "every instance must decide duplicates alike")
        }
    }

    deinit {
        writer.close()
    }

    /// Where ``Event``s go (set before ``read(after:deliver:)``).
    public func onEvent(_ handler: (@Sendable (Event) -> Void)?) {
        signals.handler.withLock { $0 = handler }
    }

    /// Whether the append connection and every running reading are connected.
    public var isConnected: Bool { writer.isConnected && signals.disconnectedReadings.load(ordering: .relaxed) == 0 }

    /// Closes the append connection (appends in flight fail). Readings are cancelled by their owner.
    public func close() {
        writer.close()
    }

    public func append(group: SharedLogGroup, completion: @escaping @Sendable (Result<SharedLogAppendResult, SharedLogError>) -> Void) {
        let requestCount = group.requests.count
        let arguments = IngestScriptReply.arguments(for: group)
        writer.evaluate(script, keys: [streamKey], arguments: arguments, timeout: configuration.appendTimeoutMilliseconds) { result in
            switch result {
            case .success(let reply): completion(IngestScriptReply.parse(reply, requestCount: requestCount))
            case .failure(let error): completion(.failure(SharedLogError("redis: \(error)")))
            }
        }
    }

    public func read(after position: SharedLogPosition?, deliver: @escaping @Sendable (SharedLogDelivery) -> Void) -> any SharedLogReading {
        let signals = self.signals
        return RedisStreamReading(configuration: configuration, after: position, deliver: deliver) { event in
            switch event {
            case .connectionLost: signals.disconnectedReadings.add(1, ordering: .relaxed)
            case .connectionRestored: signals.disconnectedReadings.subtract(1, ordering: .relaxed)
            case .gap: break
            }
            signals.handler.withLock { $0 }?(event)
        } finished: { wasDisconnected in
            if wasDisconnected { signals.disconnectedReadings.subtract(1, ordering: .relaxed) }
        }
    }

    private static func isLowerHex(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }

    /// 16 random lowercase hex characters.
    static func randomHex() -> String {
        HexDigits.randomWord()
    }
}

/// Cluster mode cannot start: Redis is unreachable, refuses, or holds something unexpected.
public struct RedisSharedLogError: Error, Sendable, CustomStringConvertible {
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
