import Basics
import Broker
import Glibc
import Monitor
import Redis

extension ClusterSnapshotStore {
    /// Milliseconds the broker has to run the capture `query` (it queues behind the commands
    /// before it; a stopped broker never runs it).
    static let captureTimeout = 10_000
    /// Milliseconds for a batch of commands that carries part of a snapshot (up to 4 MiB).
    static let transferTimeout: Int64 = 30_000

    /// One round, as the thread runs it every interval (tests call it directly): lease, capture,
    /// encode, upload the parts into staging keys, publish and trim (``writeScript``). A failed
    /// upload or write deletes the staging keys (best effort; they expire with the lease anyway).
    /// Blocks; call it off the client's loop and the broker's thread.
    public func snapshotNow(broker: MessageBroker) -> RoundOutcome {
        guard !control.withLock({ $0.stopping }) else { return .failed("stopping") }
        guard broker.isCaughtUp else { return .notCaughtUp }
        let epoch: String
        switch resolveEpoch() {
        case .success(let known): epoch = known
        case .failure(let failure): return .failed(failure.message)
        }
        switch takeLease() {
        case .success(true): break
        case .success(false): return .notLeader
        case .failure(let failure): return .failed(failure.message)
        }
        guard let captured = capture(broker) else {
            return control.withLock { $0.stopping } ? .failed("stopping") : .failed("the broker did not answer the capture in time")
        }
        guard let position = captured.position else { return .unchanged }
        if let last = control.withLock({ $0.lastWritten }), position <= last { return .unchanged }
        let stored: StoredSnapshot?
        switch storedSnapshot() {
        case .success(let found): stored = found
        case .failure(let failure): return .failed(failure.message)
        }
        if let stored, stored.epoch == epoch, let storedPosition = SharedLogPosition(streamId: stored.position),
            position <= storedPosition
        {
            return .unchanged
        }
        let parts = [("monitor", captured.monitor.encodeSnapshot()), ("broker", captured.broker.encode())]
        return publish(parts, position: position, epoch: epoch, replacing: stored)
    }

    /// Uploads the encoded parts (`monitor`, then `broker`) into this instance's staging keys and
    /// runs ``writeScript``, which publishes them unless the lease, the epoch or the stored
    /// snapshot (`stored`, as read before) changed meanwhile.
    func publish(
        _ parts: [(String, [UInt8])], position: SharedLogPosition, epoch: String, replacing stored: StoredSnapshot?
    ) -> RoundOutcome {
        for (name, bytes) in parts {
            if case .failure(let failure) = stage(bytes, key: keys.staging(name, instance: instance)) {
                deleteStaging()
                return .failed("snapshot upload: \(failure.message)")
            }
        }
        let positionText = position.description
        let staging = parts.map { keys.staging($0.0, instance: instance) }
        let published = parts.map { keys.part($0.0, epoch: epoch, position: positionText) }
        // Without a stored snapshot there is nothing to delete: the new part keys stand in.
        let replaced = stored.map { stored in parts.map { keys.part($0.0, epoch: stored.epoch, position: stored.position) } } ?? published
        let scriptKeys = ([keys.snapshot, keys.lease, keys.stream, keys.epoch] + staging + published + replaced).map { Array($0.utf8) }
        let arguments: [[UInt8]] = [
            instance, epoch, positionText, Self.formatVersion, String(parts[0].1.count), String(parts[1].1.count),
            String(Self.wallClockMilliseconds()), stored.map { $0.epoch + ":" + $0.position } ?? "",
            String(Self.chunkCount(parts[0].1.count)), String(Self.chunkCount(parts[1].1.count)),
        ].map { Array($0.utf8) }
        let reply = client.evaluateAndWait(Self.writeScript, keys: scriptKeys, arguments: arguments)
        switch reply {
        case .failure(let error):
            deleteStaging()
            return .failed("snapshot write: \(error)")
        case .success(let value):
            guard let elements = value.array, elements.count == 2, let written = elements[0].integer else {
                deleteStaging()
                return .failed("snapshot write: unexpected reply \(value.isError ? value.description : "shape")")
            }
            guard written == 1 else { return .refused(elements[1].string ?? "refused") }
            control.withLock { $0.lastWritten = position }
            let bytes = parts[0].1.count + parts[1].1.count
            return .written(position: position, bytes: bytes, trimmed: Int(elements[1].integer ?? 0))
        }
    }

    /// The broker's monitor, broker snapshot and applied position, read in ONE `query` so that
    /// all three describe the same entries; nil when the broker did not answer in time or the
    /// store is stopping.
    func capture(_ broker: MessageBroker) -> Captured? {
        let generation = control.withLock { control in
            control.captureGeneration += 1
            control.captured = nil
            return control.captureGeneration
        }
        let control = self.control
        broker.query { broker in
            let captured = Captured(
                generation: generation, monitor: broker.state, broker: broker.snapshot(), position: broker.appliedPosition)
            control.withLock { control in
                if control.captureGeneration == generation { control.captured = captured }
            }
            control.broadcast()
        }
        return control.withLock(when: { $0.stopping || $0.captured != nil }, timeoutMilliseconds: Self.captureTimeout) { control in
            defer { control.captured = nil }
            return control.stopping ? nil : control.captured
        }
    }

    /// Takes the lease, or extends it if this instance holds it (``leaseScript``).
    func takeLease() -> Result<Bool, SharedLogError> {
        let reply = client.evaluateAndWait(
            Self.leaseScript, keys: [Array(keys.lease.utf8)],
            arguments: [Array(instance.utf8), Array(String(leaseMilliseconds).utf8)])
        switch reply {
        case .failure(let error): return .failure(SharedLogError("snapshot lease: \(error)"))
        case .success(.integer(let held)):
            if held == 1 { control.withLock { $0.tookLease = true } }
            return .success(held == 1)
        case .success(let other): return .failure(SharedLogError("snapshot lease: unexpected reply \(other)"))
        }
    }

    /// Deletes the lease if this instance holds it (best effort: it expires anyway).
    func releaseLease() {
        let reply = client.evaluateAndWait(
            Self.releaseScript, keys: [Array(keys.lease.utf8)], arguments: [Array(instance.utf8)], timeout: 1_000)
        if case .success(.integer(1)) = reply { log(.info, "snapshot lease released") }
    }

    /// The stored snapshot's epoch and position, as the hash holds them.
    struct StoredSnapshot: Equatable {
        var epoch: String
        var position: String
    }

    /// The stored snapshot's epoch and position (nil: no hash, or one without them), whatever the
    /// epoch: the write deletes its parts when it replaces it.
    func storedSnapshot() -> Result<StoredSnapshot?, SharedLogError> {
        let reply = client.sendAndWait([Array("HMGET".utf8), Array(keys.snapshot.utf8), Array("epoch".utf8), Array("position".utf8)])
        switch reply {
        case .failure(let error):
            return .failure(SharedLogError("snapshot position: \(error)"))
        case .success(let value):
            guard let fields = value.array, fields.count == 2 else { return .failure(SharedLogError("snapshot position: \(value)")) }
            guard let epoch = fields[0].string, let position = fields[1].string else { return .success(nil) }
            return .success(StoredSnapshot(epoch: epoch, position: position))
        }
    }

    /// The shared log's epoch: the one given or learned before, else `GET {syndicast}:epoch`.
    func resolveEpoch() -> Result<String, SharedLogError> {
        if let known = knownEpoch.withLock({ $0 }) { return .success(known) }
        switch client.sendAndWait([Array("GET".utf8), Array(keys.epoch.utf8)]) {
        case .failure(let error):
            return .failure(SharedLogError("epoch: \(error)"))
        case .success(let value):
            guard let epoch = value.string, !value.isError else {
                return .failure(SharedLogError("no \(keys.epoch) in Redis (\(value)): the shared log has not started"))
            }
            knownEpoch.withLock { $0 = epoch }
            return .success(epoch)
        }
    }

    /// Milliseconds since 1970 (the hash's `taken` field, for operators).
    static func wallClockMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000 + Int64(now.tv_nsec) / 1_000_000
    }
}
