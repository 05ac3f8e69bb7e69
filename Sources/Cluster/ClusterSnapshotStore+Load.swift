import Broker
import Glibc
import Monitor
import Redis

extension ClusterSnapshotStore {
    /// Reads of the hash and its parts before a snapshot replaced meanwhile is given up on.
    static let loadAttempts = 3

    /// The hash's fields a load reads (`HMGET`, in this order).
    static let describedFields = ["format", "epoch", "position", "monitor-length", "broker-length"]

    /// What the hash says about the stored snapshot: where its parts are and how long they are.
    struct Described: Equatable {
        var epoch: String
        var position: SharedLogPosition
        var monitorKey: String
        var monitorLength: Int
        var brokerKey: String
        var brokerLength: Int
    }

    /// The latest snapshot, restored under `configuration`; nil (logged) when there is none, or it
    /// cannot be used: Redis did not answer, another format, another epoch (the stream it
    /// describes is gone), another rule configuration, parts missing or of other lengths than the
    /// hash records, or damaged bytes. The instance then reads the stream from its start, which
    /// works only while the stream has not been trimmed: once it has, the reader reports the gap
    /// and the server exits (docs/CLUSTER.md).
    ///
    /// Reads the hash's small fields and the epoch key in one round trip, then each part's list
    /// one 1 MiB element per `LRANGE`. A part key is written once and only deleted (by the write
    /// that replaces its snapshot), so a part read to its recorded length belongs to the hash read
    /// before it; a part deleted meanwhile reads short, and the load starts over
    /// (``loadAttempts``). The epoch learned here is the one later rounds write under, unless one
    /// was given at `init`.
    public func load(configuration: MonitorConfiguration) -> Loaded? {
        let started = Self.monotonicNanoseconds()
        for attempt in 1...Self.loadAttempts {
            let described: Described
            switch describe() {
            case .failure(let reason):
                log(reason.level, reason.description)
                return nil
            case .success(let found):
                described = found
            }
            guard let monitorBytes = readPart(key: described.monitorKey, length: described.monitorLength),
                let brokerBytes = readPart(key: described.brokerKey, length: described.brokerLength)
            else {
                if attempt < Self.loadAttempts { continue }
                log(
                    .warning,
                    "snapshot not used: its parts are missing or not of the lengths the hash records (\(attempt) reads); "
                        + "reading the stream from its start")
                return nil
            }
            let fetched = Self.monotonicNanoseconds()
            switch Self.decode(described, monitor: monitorBytes, broker: brokerBytes, configuration: configuration) {
            case .failure(let reason):
                log(.warning, "snapshot not used: \(reason); reading the stream from its start")
                return nil
            case .success(let loaded):
                let now = Self.monotonicNanoseconds()
                log(
                    .info,
                    "snapshot loaded at \(loaded.position) (seq \(loaded.broker.seq), \(loaded.broker.transactions) transactions, "
                        + "\(monitorBytes.count + brokerBytes.count) bytes): fetched in \((fetched - started) / 1_000_000) ms, "
                        + "restored in \((now - fetched) / 1_000_000) ms")
                return loaded
            }
        }
        return nil
    }

    /// Reads the hash's small fields and the epoch key (one round trip) and says where the parts
    /// are; the failure says, at which level, why there is nothing to load.
    func describe() -> Result<Described, LoadRefusal> {
        let fields = [Array("HMGET".utf8), Array(keys.snapshot.utf8)] + Self.describedFields.map { Array($0.utf8) }
        let reply = client.sendAndWait(batch: [fields, [Array("GET".utf8), Array(keys.epoch.utf8)]])
        let replies: [RESPValue]
        switch reply {
        case .failure(let error):
            return .failure(LoadRefusal(.error, "snapshot not loaded, Redis did not answer: \(error); reading the stream from its start"))
        case .success(let values):
            replies = values
        }
        guard replies.count == 2, let values = replies[0].array, let epoch = replies[1].string, !replies[1].isError else {
            return .failure(LoadRefusal(.info, "no stream epoch in Redis yet, so no snapshot to load; reading the stream from its start"))
        }
        let known = knownEpoch.withLock { known in
            if known == nil { known = epoch }
            return known ?? epoch
        }
        guard values.count == Self.describedFields.count, values.contains(where: { !$0.isNull }) else {
            return .failure(LoadRefusal(.info, "no snapshot in Redis; reading the stream from its start"))
        }
        var texts: [String: String] = [:]
        for (name, value) in zip(Self.describedFields, values) { texts[name] = value.string }
        return Self.describe(texts, epoch: known, keys: keys).mapError {
            LoadRefusal(.warning, "snapshot not used: \($0); reading the stream from its start")
        }
    }

    /// Checks the hash's small fields against this build and the stream's `epoch`.
    static func describe(_ texts: [String: String], epoch: String, keys: Keys) -> Result<Described, SnapshotRefusal> {
        guard let format = texts["format"], format == formatVersion else {
            return .failure(SnapshotRefusal("format \(texts["format"] ?? "missing"), this build reads \(formatVersion)"))
        }
        guard let stored = texts["epoch"], stored == epoch else {
            return .failure(SnapshotRefusal("taken under stream epoch \(texts["epoch"] ?? "missing"), the stream's is \(epoch)"))
        }
        guard let positionText = texts["position"], let position = SharedLogPosition(streamId: positionText) else {
            return .failure(SnapshotRefusal("position \(texts["position"] ?? "missing") is not a stream id"))
        }
        let lengths = ["monitor-length", "broker-length"].map { name in
            texts[name].flatMap { Int($0) }.flatMap { (0...maximumPartBytes).contains($0) ? $0 : nil }
        }
        guard let monitorLength = lengths[0], let brokerLength = lengths[1] else {
            return .failure(SnapshotRefusal("part lengths \(texts["monitor-length"] ?? "missing"), \(texts["broker-length"] ?? "missing")"))
        }
        return .success(
            Described(
                epoch: epoch, position: position, monitorKey: keys.part("monitor", epoch: epoch, position: positionText),
                monitorLength: monitorLength,
                brokerKey: keys.part("broker", epoch: epoch, position: positionText), brokerLength: brokerLength))
    }

    /// The longest part a load accepts (a damaged length field must not reserve gigabytes).
    static let maximumPartBytes = 1 << 30

    /// Decodes the parts; the failure says why they cannot be used.
    static func decode(
        _ described: Described, monitor monitorBytes: [UInt8], broker brokerBytes: [UInt8], configuration: MonitorConfiguration
    ) -> Result<Loaded, SnapshotRefusal> {
        let broker: BrokerSnapshot
        do {
            broker = try BrokerSnapshot(decoding: brokerBytes)
        } catch {
            return .failure(SnapshotRefusal("broker part: \(error)"))
        }
        let monitor: TransactionMonitor
        do {
            monitor = try TransactionMonitor(snapshot: monitorBytes, configuration: configuration)
        } catch {
            return .failure(SnapshotRefusal(error.description))
        }
        return .success(Loaded(monitor: monitor, broker: broker, position: described.position, epoch: described.epoch))
    }

    static func monotonicNanoseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }
}

/// Why a stored snapshot cannot be used (for the log line).
struct SnapshotRefusal: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}

/// Why a load found nothing to use, and how loudly to say so.
struct LoadRefusal: Error, CustomStringConvertible {
    let level: ClusterSnapshotStore.LogLevel
    let description: String

    init(_ level: ClusterSnapshotStore.LogLevel, _ description: String) {
        self.level = level
        self.description = description
    }
}
