import Broker
import Cluster
import Foundation
import Glibc
import Journal
import Monitor
import Redis
import RedisTestSupport
import Synchronization
import Testing

/// A redis-server for the snapshot tests (``RedisServerProcess``) and the clients they open on
/// it, closed with it.
final class SnapshotTestRedis {
    static var binary: String? { RedisServerProcess.binary }

    let server: RedisServerProcess
    var port: Int { server.port }
    private var clients: [RedisClient] = []

    init() throws {
        server = try RedisServerProcess()
    }

    deinit {
        for client in clients { client.close() }
    }

    /// A new client of this server (closed with the server).
    func client() throws -> RedisClient {
        let url = try RedisURL(parsing: server.url())
        let client = try RedisClient(configuration: RedisClient.Configuration(url: url))
        clients.append(client)
        return client
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
/// A redis-server, a client on it with the epoch key set to `epoch`, and a store on that client.
func snapshotStoreOnFreshRedis(
    epoch: String, instance: String, logs: LogRecorder
) throws -> (SnapshotTestRedis, RedisClient, ClusterSnapshotStore) {
    let redis = try SnapshotTestRedis()
    let client = try redis.client()
    _ = client.run("SET", ClusterSnapshotStore.epochKey, epoch)
    return (redis, client, ClusterSnapshotStore(client: client, instance: instance, interval: .seconds(60), log: logs.log))
}

/// A snapshot broker on `log` with `count` transactions posted, and the position of the snapshot
/// `store` wrote of it; nil, recorded as an issue, when nothing was written.
func brokerWithSnapshot(_ log: InMemorySharedLog, in store: ClusterSnapshotStore, count: Int) async -> (MessageBroker, SharedLogPosition)? {
    let (broker, _) = await makeSnapshotBroker(log)
    await post(broker, "t", count: count)
    await settle(broker)
    guard case .written(let position, _, _) = await blocking({ store.snapshotNow(broker: broker) }) else {
        Issue.record("no snapshot written")
        return nil
    }
    return (broker, position)
}

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
