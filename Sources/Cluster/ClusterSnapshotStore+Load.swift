import Broker
import Glibc
import Monitor
import Redis

extension ClusterSnapshotStore {
    /// The latest snapshot, restored under `configuration`; nil (logged) when there is none, or it
    /// cannot be used: Redis did not answer, another format, another epoch (the stream it
    /// describes is gone), another rule configuration, or damaged bytes. The instance then reads
    /// the stream from its start, which works only while the stream has not been trimmed: once it
    /// has, the reader reports the gap and the server exits (docs/CLUSTER.md).
    ///
    /// Reads the hash and the epoch key in one round trip; the epoch learned here is the one later
    /// rounds write under, unless one was given at `init`.
    public func load(configuration: MonitorConfiguration) -> Loaded? {
        let started = Self.monotonicNanoseconds()
        let reply = client.sendAndWait(
            batch: [[Array("HGETALL".utf8), Array(keys.snapshot.utf8)], [Array("GET".utf8), Array(keys.epoch.utf8)]],
            timeout: Self.transferTimeout)
        let replies: [RESPValue]
        switch reply {
        case .failure(let error):
            log(.error, "snapshot not loaded, Redis did not answer: \(error); reading the stream from its start")
            return nil
        case .success(let values):
            replies = values
        }
        guard replies.count == 2, let pairs = replies[0].array, let epoch = replies[1].string, !replies[1].isError else {
            log(.info, "no stream epoch in Redis yet, so no snapshot to load; reading the stream from its start")
            return nil
        }
        let known = knownEpoch.withLock { known in
            if known == nil { known = epoch }
            return known ?? epoch
        }
        guard !pairs.isEmpty else {
            log(.info, "no snapshot in Redis; reading the stream from its start")
            return nil
        }
        var fields: [String: [UInt8]] = [:]
        var index = 0
        while index + 1 < pairs.count {
            if let name = pairs[index].string, let value = pairs[index + 1].bytes { fields[name] = value }
            index += 2
        }
        let fetched = Self.monotonicNanoseconds()
        switch Self.decode(fields, epoch: known, configuration: configuration) {
        case .failure(let reason):
            log(.warning, "snapshot not used: \(reason); reading the stream from its start")
            return nil
        case .success(let loaded):
            let now = Self.monotonicNanoseconds()
            let size = (fields["monitor"]?.count ?? 0) + (fields["broker"]?.count ?? 0)
            log(
                .info,
                "snapshot loaded at \(loaded.position) (seq \(loaded.broker.seq), \(loaded.broker.transactions) transactions, "
                    + "\(size) bytes): fetched in \((fetched - started) / 1_000_000) ms, restored in \((now - fetched) / 1_000_000) ms")
            return loaded
        }
    }

    /// Decodes the hash's fields; the failure says why they cannot be used.
    static func decode(
        _ fields: [String: [UInt8]], epoch: String, configuration: MonitorConfiguration
    ) -> Result<Loaded, SnapshotRefusal> {
        let text = { (name: String) in fields[name].map { String(decoding: $0, as: UTF8.self) } }
        guard let format = text("format"), format == formatVersion else {
            return .failure(SnapshotRefusal("format \(text("format") ?? "missing"), this build reads \(formatVersion)"))
        }
        guard let stored = text("epoch"), stored == epoch else {
            return .failure(SnapshotRefusal("taken under stream epoch \(text("epoch") ?? "missing"), the stream's is \(epoch)"))
        }
        guard let positionText = text("position"), let position = SharedLogPosition(streamId: positionText) else {
            return .failure(SnapshotRefusal("position \(text("position") ?? "missing") is not a stream id"))
        }
        guard let monitorBytes = fields["monitor"], let brokerBytes = fields["broker"] else {
            return .failure(SnapshotRefusal("the monitor or broker field is missing"))
        }
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
        return .success(Loaded(monitor: monitor, broker: broker, position: position, epoch: epoch))
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
