import Basics
import Broker
import Cluster
import Journal
import Monitor
import Prometheus
import Redis
import Synchronization

/// Cluster mode's part of the server (`--redis`, docs/CLUSTER.md): the shared log on Redis, and
/// what `/api/stats` and `/metrics` report about it.
final class ServerCluster: Sendable {
    let log: RedisSharedLog
    /// The Redis URL without its userinfo's password (for stats and logs).
    let url: String
    /// Loads the latest snapshot at start and, every `--redis-snapshot-interval` while this
    /// instance holds the lease, stores a new one and trims the stream (on a Redis connection of
    /// its own, so a multi-megabyte snapshot does not hold back the appends queued behind it).
    let snapshots: ClusterSnapshotStore
    /// The `/metrics` families of cluster mode.
    let metrics: ClusterMetricFamilies
    /// Where the snapshot store's messages go.
    private let snapshotLog = SnapshotLogRelay()

    /// Connects to Redis and reads the epoch; throws a ``StartupError`` when Redis cannot be
    /// reached within the connect timeout (the server then exits 1 rather than serve nothing).
    init(configuration: ServerConfiguration, redis: RedisURL, registry: PrometheusCollectorRegistry) throws {
        metrics = ClusterMetricFamilies(registry: registry)
        var logConfiguration = RedisSharedLog.Configuration(url: redis)
        logConfiguration.idempotencyTTLSeconds = configuration.redisIdempotencyTTLSeconds
        logConfiguration.idempotencyWindow = configuration.broker.idempotencyWindow
        do { log = try RedisSharedLog(configuration: logConfiguration) } catch {
            throw StartupError("--redis: \(error)")
        }
        url = Self.display(redis)
        let snapshotClient: RedisClient
        do { snapshotClient = try RedisClient(configuration: RedisClient.Configuration(url: redis)) } catch {
            throw StartupError("--redis: cannot start the snapshot store's connection: \(error)")
        }
        let relay = snapshotLog
        snapshots = ClusterSnapshotStore(
            client: snapshotClient, instance: Self.instanceIdentifier(),
            interval: .seconds(configuration.redisSnapshotIntervalSeconds), epoch: log.epoch
        ) { level, message in relay.say(level, message) }
    }

    /// Sends the snapshot store's messages to `receiver` from now on, after those said so far.
    func reportSnapshotEvents(_ receiver: @escaping ClusterSnapshotStore.Log) {
        snapshotLog.setReceiver(receiver)
    }

    /// 16 random lowercase hex characters: this process's id as the snapshot lease's holder.
    static func instanceIdentifier() -> String {
        HexDigits.randomWord()
    }

    /// How the broker turns requests into a stream entry's payload and back.
    static let codec = SharedLogCodec(encode: { JournalPayloadCodec.encode($0) }, decode: { try JournalPayloadCodec.decode($0) })

    /// The state to start from: the latest snapshot in Redis (its monitor, broker counters and
    /// stream position), or nil to read the whole stream (none yet, or taken under other rules or
    /// another epoch, or damaged: the store says which).
    func loadSnapshot(configuration: MonitorConfiguration) -> ClusterSnapshotStore.Loaded? {
        snapshots.load(configuration: configuration)
    }

    /// `redis://[user@]host:port/db`: the URL without any password.
    static func display(_ url: RedisURL) -> String {
        let host = url.host.contains(":") ? "[\(url.host)]" : url.host
        let user = url.username.map { "\($0)@" } ?? ""
        return "redis://\(user)\(host):\(url.port)/\(url.database)"
    }

    /// `/api/stats`' `cluster` object.
    func statisticsJSON(_ statistics: ClusterStatistics, position: SharedLogPosition?) -> [UInt8] {
        var writer = JSONWriter(capacity: 192)
        writer.appendRaw("{\"redis\":")
        writer.appendString(url)
        writer.appendRaw(",\"connected\":")
        writer.appendRaw(log.isConnected ? "true" : "false")
        writer.appendRaw(",\"appends\":")
        writer.appendInteger(Int64(statistics.appends))
        writer.appendRaw(",\"appendFailures\":")
        writer.appendInteger(Int64(statistics.appendFailures))
        writer.appendRaw(",\"appliedEntries\":")
        writer.appendInteger(Int64(statistics.appliedEntries))
        writer.appendRaw(",\"undecodableEntries\":")
        writer.appendInteger(Int64(statistics.undecodableEntries))
        writer.appendRaw(",\"position\":")
        if let position { writer.appendString(position.description) } else { writer.appendRaw("null") }
        writer.appendRaw("}")
        return writer.bytes
    }

    /// Publishes the cluster families into the server's registry (at scrape time).
    func publishMetrics(_ statistics: ClusterStatistics) {
        metrics.publish(statistics, connected: log.isConnected)
    }
}

/// Hands the snapshot store's messages to a receiver; lines said before one is set (the load at
/// start happens before the command line's logger is attached) are kept and handed over then.
private final class SnapshotLogRelay: Sendable {
    private let state = Mutex<(receiver: ClusterSnapshotStore.Log?, pending: [(ClusterSnapshotStore.LogLevel, String)])>((nil, []))

    func say(_ level: ClusterSnapshotStore.LogLevel, _ message: String) {
        let receiver = state.withLock { state -> ClusterSnapshotStore.Log? in
            if state.receiver == nil { state.pending.append((level, message)) }
            return state.receiver
        }
        receiver?(level, message)
    }

    func setReceiver(_ receiver: @escaping ClusterSnapshotStore.Log) {
        let pending = state.withLock { state in
            state.receiver = receiver
            defer { state.pending = [] }
            return state.pending
        }
        for (level, message) in pending { receiver(level, message) }
    }
}
