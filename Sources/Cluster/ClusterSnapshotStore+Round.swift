import Basics
import Broker
import Glibc
import Monitor
import Redis

extension ClusterSnapshotStore {
    /// Milliseconds the broker has to run the capture `query` (it queues behind the commands
    /// before it; a stopped broker never runs it).
    static let captureTimeout = 10_000
    /// Milliseconds for a command that carries a snapshot: megabytes each way.
    static let transferTimeout: Int64 = 30_000

    /// One round, as the thread runs it every interval (tests call it directly): lease, capture,
    /// encode, write and trim. Blocks; call it off the client's loop and the broker's thread.
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
        switch storedPosition(epoch: epoch) {
        case .success(let stored?) where position <= stored:
            return .unchanged
        case .failure(let failure):
            return .failed(failure.message)
        case .success:
            break
        }
        let monitorBytes = captured.monitor.encodeSnapshot()
        let brokerBytes = captured.broker.encode()
        let arguments: [[UInt8]] = [
            Array(instance.utf8), Array(epoch.utf8), Array(position.description.utf8), Array(Self.formatVersion.utf8), monitorBytes,
            brokerBytes, Array(String(Self.wallClockMilliseconds()).utf8),
        ]
        let scriptKeys = [keys.snapshot, keys.lease, keys.stream, keys.epoch].map { Array($0.utf8) }
        let reply = client.evaluateAndWait(Self.writeScript, keys: scriptKeys, arguments: arguments, timeout: Self.transferTimeout)
        switch reply {
        case .failure(let error):
            return .failed("snapshot write: \(error)")
        case .success(let value):
            guard let elements = value.array, elements.count == 2, let written = elements[0].integer else {
                return .failed("snapshot write: unexpected reply \(value.isError ? value.description : "shape")")
            }
            guard written == 1 else { return .refused(elements[1].string ?? "refused") }
            control.withLock { $0.lastWritten = position }
            return .written(position: position, bytes: monitorBytes.count + brokerBytes.count, trimmed: Int(elements[1].integer ?? 0))
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

    /// The position of the stored snapshot if it belongs to `epoch`, else nil.
    func storedPosition(epoch: String) -> Result<SharedLogPosition?, SharedLogError> {
        let reply = client.sendAndWait([Array("HMGET".utf8), Array(keys.snapshot.utf8), Array("epoch".utf8), Array("position".utf8)])
        switch reply {
        case .failure(let error):
            return .failure(SharedLogError("snapshot position: \(error)"))
        case .success(let value):
            guard let fields = value.array, fields.count == 2 else { return .failure(SharedLogError("snapshot position: \(value)")) }
            guard fields[0].string == epoch, let text = fields[1].string else { return .success(nil) }
            return .success(SharedLogPosition(streamId: text))
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
