import Basics
import Broker
import Monitor
import Redis
import Synchronization

/// Cluster mode's bounded history (issue 15, docs/CLUSTER.md "Snapshots and trimming"): stores
/// the Monitor and Broker state in Redis now and then, and trims the stream behind it, so a new or
/// restarted instance starts from the latest snapshot plus the stream after it.
///
/// Keys: `{syndicast}:snapshot`, a small hash (fields `format`, `epoch`, `position`, `previous`,
/// `monitor-length`, `broker-length`, `instance`, `taken`); the two parts it describes, as lists
/// of 1 MiB elements in keys named after it (``Keys/part(_:epoch:position:)``); and
/// `{syndicast}:snapshot-lease`, the id of the instance allowed to write it. Every `interval` the
/// store's thread (`snapshot`) takes or extends the lease (`3 × interval`), and only while it
/// holds it: copies the broker's state in one `query` (the monitor is a value: the copy is O(1),
/// the broker's next write pays the copy-on-write), encodes it on its own thread, uploads each
/// part into a staging list of its own one 1 MiB `RPUSH` at a time (``Keys/staging(_:instance:)``),
/// and publishes them with one short script that renames them onto the part keys, replaces the
/// hash and trims the stream to the previous snapshot's position (``writeScript``). An instance up
/// to one interval behind the newest snapshot thus still finds every entry it needs. No command
/// carries more than 1 MiB, so Redis's one thread (every instance's ingest) never stalls on the
/// tens of megabytes a full idempotency window makes (docs/CLUSTER.md "Snapshots and trimming").
///
/// Give it a `RedisClient` of its own: a snapshot is megabytes (30 MB for 1M transactions with a
/// full 1M-id window), and commands pipelined behind its transfer on a shared connection would wait
/// for it.
public final class ClusterSnapshotStore: Sendable {
    /// How important a log record is (the caller maps it to its logger).
    public enum LogLevel: Sendable, Equatable {
        case debug, info, warning, error
    }

    /// Receives the store's log records.
    public typealias Log = @Sendable (_ level: LogLevel, _ message: String) -> Void

    /// A snapshot read back by ``load(configuration:)``. Start the broker from it, restoring its
    /// counters before it reads (a `query` queued before `startReading` runs first):
    /// ```swift
    /// let broker = MessageBroker(monitor: loaded.monitor, epoch: epoch, sharedLog: log, codec: codec,
    ///                            startPosition: loaded.position, seq: loaded.broker.seq)
    /// broker.query { $0.restore(loaded.broker) }
    /// broker.startReading { … }
    /// store.start(broker: broker)
    /// ```
    public struct Loaded: Sendable {
        public var monitor: TransactionMonitor
        public var broker: BrokerSnapshot
        /// The last stream entry the state includes: reading resumes after it.
        public var position: SharedLogPosition
        /// The shared log's epoch the snapshot was taken under.
        public var epoch: String
    }

    /// What one snapshot round did (``snapshotNow(broker:)``).
    public enum RoundOutcome: Sendable, Equatable {
        /// The broker has not caught up with the stream yet: it does not contend for the lease.
        case notCaughtUp
        /// Another instance holds the lease.
        case notLeader
        /// Nothing was applied since the stored snapshot: nothing written.
        case unchanged
        /// Written at `position` (`bytes` = monitor + broker); the stream was trimmed by
        /// `trimmed` entries.
        case written(position: SharedLogPosition, bytes: Int, trimmed: Int)
        /// The write script refused (the lease was lost meanwhile, the epoch changed, or a newer
        /// snapshot is stored).
        case refused(String)
        /// Redis did not answer, or answered an error.
        case failed(String)
    }

    /// The keys a store uses: the stream's, and its prefix (with the `{…}` hash tag, so one script
    /// may touch them all) followed by `snapshot`, `snapshot-lease` and `epoch`.
    public struct Keys: Sendable, Equatable {
        public var stream: String
        public var snapshot: String
        public var lease: String
        public var epoch: String

        /// The keys beside `stream` (`{syndicast}:stream` gives the contract's keys).
        public init(stream: String = ClusterSnapshotStore.streamKey) {
            let prefix = stream.hasSuffix("stream") ? String(stream.dropLast("stream".count)) : stream + ":"
            self.stream = stream
            snapshot = prefix + "snapshot"
            lease = prefix + "snapshot-lease"
            epoch = prefix + "epoch"
        }

        /// The key holding one part (`monitor` or `broker`) of the snapshot taken under `epoch` at
        /// `position`: `{syndicast}:snapshot:<epoch>:<ms-seq>:<part>`. A part key is written once
        /// (renamed from a staging key) and only ever deleted, so bytes read from it belong to
        /// that snapshot.
        public func part(_ name: String, epoch: String, position: String) -> String {
            snapshot + ":" + epoch + ":" + position + ":" + name
        }

        /// The key where `instance` uploads one part before publishing it:
        /// `{syndicast}:snapshot-staging:<instance>:<part>`.
        public func staging(_ name: String, instance: String) -> String {
            snapshot + "-staging:" + instance + ":" + name
        }
    }

    /// The snapshot hash.
    public static let snapshotKey = "{syndicast}:snapshot"
    /// The writer's lease: the holder's instance id, with an expiry.
    public static let leaseKey = "{syndicast}:snapshot-lease"
    /// The shared stream, trimmed by the write.
    public static let streamKey = "{syndicast}:stream"
    /// The shared log's epoch (created by the log, read here).
    public static let epochKey = "{syndicast}:epoch"
    /// The hash's `format` field this build writes and reads.
    public static let formatVersion = "3"

    let client: RedisClient
    /// Where the snapshot, the lease, the stream and the epoch live.
    public let keys: Keys
    /// This instance's id: the lease's value while it writes.
    public let instance: String
    /// Time between rounds; zero or less: never (``start(broker:)`` does nothing).
    public let interval: Duration
    let log: Log
    /// The shared log's epoch, once known (given, or read from Redis at first use).
    let knownEpoch: Mutex<String?>
    let control = ConditionLock(Control())
    let thread = Mutex<NamedThread?>(nil)

    /// The round's bookkeeping shared with the broker's thread and `stop()`.
    struct Control {
        var stopping = false
        /// Incremented per capture, so a late reply of an abandoned capture is ignored.
        var captureGeneration: UInt64 = 0
        var captured: Captured?
        /// The position of the last snapshot this store wrote.
        var lastWritten: SharedLogPosition?
        /// Whether a round has taken the lease (``stop()`` then gives it up).
        var tookLease = false
    }

    /// The broker's state as one `query` read it.
    struct Captured: Sendable {
        let generation: UInt64
        let monitor: TransactionMonitor
        let broker: BrokerSnapshot
        let position: SharedLogPosition?
    }

    /// A store on `client` for the instance `instance` (a random id, unique per process start).
    /// `epoch` is the shared log's epoch (nil: read from `{syndicast}:epoch` at first use);
    /// `log` gets what the store has to say; `keys` default to the contract's.
    public init(
        client: RedisClient, instance: String, interval: Duration, epoch: String? = nil, keys: Keys = Keys(),
        log: @escaping Log = { _, _ in }
    ) {
        self.client = client
        self.keys = keys
        self.instance = instance
        self.interval = interval
        self.knownEpoch = Mutex(epoch)
        self.log = log
    }

    /// The lease's lifetime: three intervals, so one slow round does not lose it.
    var leaseMilliseconds: Int64 { max(interval.milliseconds * 3, 1) }

    /// Starts the thread that takes a snapshot every `interval` (the first one interval from
    /// now). Does nothing when `interval` is zero or less, or when already started.
    public func start(broker: MessageBroker) {
        let period = interval.milliseconds
        guard period > 0 else { return }
        thread.withLock { thread in
            guard thread == nil, !control.withLock({ $0.stopping }) else { return }
            do {
                thread = try NamedThread(name: "snapshot") { [self] in run(broker: broker, period: period) }
            } catch {
                log(.error, "snapshot thread could not start: \(error); no snapshots will be written")
            }
        }
    }

    /// Stops the thread and joins it (a round in progress ends within its Redis timeouts), then
    /// gives up the lease if this instance holds it, so another instance takes over at its next
    /// round instead of after the lease expires. Later rounds do nothing.
    public func stop() {
        control.withLock { $0.stopping = true }
        control.broadcast()
        thread.withLock { $0 }?.join()
        if control.withLock({ $0.tookLease }) { releaseLease() }
    }

    private func run(broker: MessageBroker, period: Int64) {
        while true {
            let stopping = control.withLock(when: { $0.stopping }, timeoutMilliseconds: Int(clamping: period)) { $0.stopping }
            if stopping { return }
            let outcome = snapshotNow(broker: broker)
            if control.withLock({ $0.stopping }) { return }
            switch outcome {
            case .written(let position, let bytes, let trimmed):
                log(.info, "snapshot written at \(position) (\(bytes) bytes); stream trimmed by \(trimmed) entries")
            case .refused(let reason):
                log(.info, "snapshot not written: \(reason)")
            case .failed(let reason):
                log(.warning, "snapshot round failed: \(reason)")
            case .notCaughtUp, .notLeader, .unchanged:
                log(.debug, "snapshot round: \(outcome)")
            }
        }
    }
}

extension Duration {
    /// Whole milliseconds (truncated), saturating.
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000)
        guard !overflow else { return seconds < 0 ? Int64.min : Int64.max }
        return whole.addingReportingOverflow(attoseconds / 1_000_000_000_000_000).partialValue
    }
}
