import Broker
import Cluster
import Foundation
import Glibc
import Journal
import Monitor
import Redis
import Synchronization

/// A redis-server the snapshot tests start on a free loopback port with a temporary directory,
/// and stop (never the system's server, never port 6379); as Tests/RedisTests starts one.
final class SnapshotTestRedis {
    static let binary: String? = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    let port: Int
    let directory: String
    private let pid: pid_t
    private var clients: [RedisClient] = []

    init() throws {
        guard let binary = Self.binary else { throw SnapshotTestSetupError("redis-server is not installed") }
        directory = NSTemporaryDirectory() + "snapstore-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for _ in 0..<5 {
            let candidate = Int.random(in: 20_000...60_000)
            guard candidate != 6379, !Self.canConnect(port: candidate) else { continue }
            if let child = try Self.spawn(binary, port: candidate, directory: directory) {
                port = candidate
                pid = child
                return
            }
        }
        throw SnapshotTestSetupError("redis-server did not start")
    }

    deinit {
        for client in clients { client.close() }
        kill(pid, SIGTERM)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Starts redis-server on `port`; its pid once it answers, nil if it exited (port taken).
    private static func spawn(_ binary: String, port: Int, directory: String) throws -> pid_t? {
        let arguments = [
            binary, "--port", String(port), "--bind", "127.0.0.1", "--dir", directory, "--save", "", "--appendonly", "no",
            "--daemonize", "no", "--logfile", directory + "/redis.log",
        ]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        // The test process blocks signals on its threads; the child must not inherit that.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var child: pid_t = 0
        guard posix_spawn(&child, binary, nil, &attributes, &argv, environ) == 0 else {
            throw SnapshotTestSetupError("posix_spawn redis-server failed")
        }
        for _ in 0..<250 {
            if canConnect(port: port) { return child }
            var status: Int32 = 0
            if waitpid(child, &status, WNOHANG) == child { return nil }  // exited: port taken meanwhile
            usleep(20_000)
        }
        kill(child, SIGKILL)
        var status: Int32 = 0
        waitpid(child, &status, 0)
        return nil
    }

    /// A new client of this server (closed with the server).
    func client() throws -> RedisClient {
        let url = try RedisURL(parsing: "redis://127.0.0.1:\(port)")
        let client = try RedisClient(configuration: RedisClient.Configuration(url: url))
        clients.append(client)
        return client
    }

    static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port)).bigEndian
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return result == 0
    }
}

struct SnapshotTestSetupError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}

extension RedisClient {
    /// A command from text parts, its reply (failures as an error value, for assertions).
    func run(_ parts: String...) -> RESPValue {
        switch sendAndWait(parts.map { Array($0.utf8) }) {
        case .success(let value): return value
        case .failure(let error): return .error(Array("TEST \(error)".utf8))
        }
    }
}

/// The rules every snapshot test runs with (small, so a few transactions raise both alerts).
let snapshotRules = MonitorConfiguration(amountThreshold: Money(cents: 10_000), spikeWindowSeconds: 60, spikeThreshold: 2)

let payloadCodec = SharedLogCodec(encode: { JournalPayloadCodec.encode($0) }, decode: { try JournalPayloadCodec.decode($0) })

/// Records every event a broker emits.
final class EventRecorder: BrokerSink {
    let batches = Mutex<[[BrokerEvent]]>([])
    func deliver(_ events: [BrokerEvent]) { batches.withLock { $0.append(events) } }
    var events: [BrokerEvent] { batches.withLock { $0.flatMap { $0 } } }
    /// Each event as `seq topic json`: equal lists mean the same events with the same numbers.
    var transcript: [String] { events.map { "\($0.seq) \($0.topic) " + String(decoding: $0.encodeJSON(), as: UTF8.self) } }
}

/// Records a store's log lines.
final class LogRecorder: Sendable {
    let lines = Mutex<[(ClusterSnapshotStore.LogLevel, String)]>([])
    var log: ClusterSnapshotStore.Log { { level, message in self.lines.withLock { $0.append((level, message)) } } }
    func count(containing text: String) -> Int { lines.withLock { $0.filter { $0.1.contains(text) }.count } }
}

/// A cluster broker on `log`, reading, with a recorder; from a snapshot when `loaded` is given.
func makeSnapshotBroker(_ log: InMemorySharedLog, from loaded: ClusterSnapshotStore.Loaded? = nil) async -> (MessageBroker, EventRecorder) {
    let broker = MessageBroker(
        monitor: loaded?.monitor ?? TransactionMonitor(configuration: snapshotRules), epoch: "e1", sharedLog: log, codec: payloadCodec,
        startPosition: loaded?.position, seq: loaded?.broker.seq ?? 0)
    // As the server does it: queued before reading starts, so it runs before any entry.
    if let loaded { broker.query { $0.restore(loaded.broker) } }
    let recorder = EventRecorder()
    await broker.addSink(recorder)
    broker.startReading()
    return (broker, recorder)
}

/// Posts `count` transactions (ids `prefix0`…) through `broker`, one request each, and waits
/// for every answer; every third is large (an amount alert), all in one syndicate (spikes).
func post(_ broker: MessageBroker, _ prefix: String, count: Int, at time: Int64 = 1_000) async {
    for index in 0..<count {
        let transaction = Transaction(
            id: "\(prefix)\(index)", investorId: "i\(index % 4)", syndicateId: "s\(index % 2)",
            amount: Money(cents: index % 3 == 0 ? 50_000 : 100), timestamp: time + Int64(index))
        _ = await withCheckedContinuation { continuation in broker.ingest([transaction]) { continuation.resume(returning: $0) } }
    }
}

/// Waits until the broker has handled everything queued before (two queries: the first sends
/// the gathered writes, whose completion and entries queue ahead of the second).
func settle(_ broker: MessageBroker) async {
    for _ in 0..<2 { await withCheckedContinuation { continuation in broker.query { _ in continuation.resume() } } }
}

/// Runs `body` off the cooperative pool (the store blocks on Redis and on the broker).
func blocking<Result: Sendable>(_ body: @escaping @Sendable () -> Result) async -> Result {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread { continuation.resume(returning: body()) }
    }
}

/// Copies the in-memory log's entries after `after` into the Redis stream with the same ids, so
/// trimming acts on the positions the brokers applied.
func mirror(_ log: InMemorySharedLog, to client: RedisClient, after: SharedLogPosition?) -> SharedLogPosition? {
    var last = after
    for entry in log.entries where after.map({ entry.position > $0 }) ?? true {
        _ = client.run("XADD", ClusterSnapshotStore.streamKey, entry.position.description, "p", "x")
        last = entry.position
    }
    return last
}
