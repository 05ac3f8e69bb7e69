import Broker
import Cluster
import Monitor
import Redis
import Testing

/// ``ClusterSnapshotStore`` against a real redis-server: what is written, what is loaded, what is
/// refused, and how the stream is trimmed.
@Suite("Cluster snapshot store: write, load, trim", .enabled(if: SnapshotTestRedis.binary != nil))
struct ClusterSnapshotStoreTests {
    let log = InMemorySharedLog()

    /// A server, a client with the epoch key set to the log's, and a store on it.
    func setUp(instance: String = "a", logs: LogRecorder = LogRecorder()) throws -> (SnapshotTestRedis, RedisClient, ClusterSnapshotStore) {
        try snapshotStoreOnFreshRedis(epoch: log.epoch, instance: instance, logs: logs)
    }

    @Test func loadReturnsWhatWasStoredAndARestoredBrokerNumbersTheNextEventsLikeTheOriginal() async throws {
        let (redis, _, store) = try setUp()
        let (original, originalEvents) = await makeSnapshotBroker(log)
        await post(original, "t", count: 12)
        await settle(original)
        let outcome = await blocking { store.snapshotNow(broker: original) }
        let position = try #require(log.entries.last?.position)
        guard case .written(position, _, 0) = outcome else {
            Issue.record("expected a write at \(position), got \(outcome)")
            return
        }
        let loaded = try #require(await blocking { store.load(configuration: snapshotRules) })
        let (seq, bytes) = await withCheckedContinuation { continuation in
            original.query { continuation.resume(returning: ($0.currentSeq, $0.state.encodeSnapshot())) }
        }
        #expect(loaded.position == position)
        #expect(loaded.epoch == log.epoch)
        #expect(loaded.broker.seq == seq)
        #expect(loaded.broker.transactions == 12)
        #expect(loaded.monitor.encodeSnapshot() == bytes)

        let (restored, restoredEvents) = await makeSnapshotBroker(log, from: loaded)
        await post(original, "u", count: 9, at: 1_030)
        for broker in [original, restored] { await settle(broker) }
        let after = zip(originalEvents.events, originalEvents.transcript).filter { $0.0.seq > seq }.map(\.1)
        #expect(after.count > 9, "the later transactions raise alerts and ranking changes too")
        #expect(restoredEvents.transcript == after)
        #expect(await restored.currentSeq == original.currentSeq)
        #expect(await restored.snapshot() == original.snapshot(), "the counters carry on from the snapshot's (21 transactions)")
        #expect(await restored.snapshot().transactions == 21)
        for broker in [original, restored] { broker.shutdown() }
        _ = redis
    }

    @Test func aSnapshotTakenUnderOtherRulesIsNotLoaded() async throws {
        let logs = LogRecorder()
        let (redis, _, store) = try setUp(logs: logs)
        let (broker, _) = await makeSnapshotBroker(log)
        await post(broker, "t", count: 3)
        await settle(broker)
        guard case .written = await blocking({ store.snapshotNow(broker: broker) }) else {
            Issue.record("no snapshot written")
            return
        }
        var otherRules = snapshotRules
        otherRules.spikeThreshold = 3
        let other = otherRules
        #expect(await blocking { store.load(configuration: other) } == nil)
        #expect(logs.count(containing: "other rules") == 1)
        #expect(await blocking { store.load(configuration: snapshotRules) } != nil)
        broker.shutdown()
        _ = redis
    }

    @Test func damagedBytesAnotherEpochOrFormatAreNotLoaded() async throws {
        let (redis, client, store) = try setUp()
        guard let (broker, position) = await brokerWithSnapshot(log, in: store, count: 5) else { return }
        let hash = ClusterSnapshotStore.snapshotKey
        let monitorKey = store.keys.part("monitor", epoch: log.epoch, position: position.description)
        let brokerKey = store.keys.part("broker", epoch: log.epoch, position: position.description)
        let monitor = try #require(client.partBytes(monitorKey))
        let brokerBytes = try #require(client.partBytes(brokerKey))
        func set(_ key: String, _ value: [UInt8]) { client.setPart(key, value) }
        func setField(_ field: String, _ value: [UInt8]) {
            _ = client.sendAndWait([Array("HSET".utf8), Array(hash.utf8), Array(field.utf8), value])
        }
        // Damaged parts whose recorded length matches: the parts' own checks refuse them.
        var flipped = monitor
        flipped[monitor.count / 2] ^= 0x40
        var otherBroker = brokerBytes
        otherBroker[5] ^= 0x01
        let parts: [(String, String, [UInt8], [UInt8])] = [
            (monitorKey, "monitor-length", flipped, monitor),
            (monitorKey, "monitor-length", Array(monitor.prefix(monitor.count - 9)), monitor),
            (brokerKey, "broker-length", Array(brokerBytes.dropLast()), brokerBytes),
            (brokerKey, "broker-length", otherBroker, brokerBytes),
        ]
        for (key, lengthField, damaged, original) in parts {
            set(key, damaged)
            setField(lengthField, Array(String(damaged.count).utf8))
            #expect(await blocking { store.load(configuration: snapshotRules) } == nil, "\(key) damaged to \(damaged.count) bytes")
            set(key, original)
            setField(lengthField, Array(String(original.count).utf8))
        }
        #expect(await blocking { store.load(configuration: snapshotRules) } != nil, "the restored parts load again")
        let fields: [(String, [UInt8])] = [
            ("epoch", Array("fedcba9876543210".utf8)), ("format", Array("2".utf8)), ("position", Array("0-x".utf8)),
            ("monitor-length", Array("many".utf8)), ("broker-length", Array("-1".utf8)),
        ]
        for (field, damaged) in fields {
            let original = try #require(client.run("HGET", hash, field).bytes)
            setField(field, damaged)
            #expect(await blocking { store.load(configuration: snapshotRules) } == nil, "\(field) damaged")
            setField(field, original)
        }
        #expect(await blocking { store.load(configuration: snapshotRules) } != nil, "the restored fields load again")
        broker.shutdown()
        _ = redis
    }

    @Test func nothingIsWrittenWhenNothingWasAppliedSinceTheStoredSnapshot() async throws {
        let (redis, client, store) = try setUp()
        let (broker, _) = await makeSnapshotBroker(log)
        await settle(broker)
        #expect(await blocking { store.snapshotNow(broker: broker) } == .unchanged, "nothing applied yet")
        #expect(client.run("EXISTS", ClusterSnapshotStore.snapshotKey) == .integer(0))
        await post(broker, "t", count: 2)
        await settle(broker)
        guard case .written = await blocking({ store.snapshotNow(broker: broker) }) else {
            Issue.record("no snapshot written")
            return
        }
        let taken = client.run("HGET", ClusterSnapshotStore.snapshotKey, "taken")
        _ = client.run("HSET", ClusterSnapshotStore.snapshotKey, "taken", "marker")
        #expect(await blocking { store.snapshotNow(broker: broker) } == .unchanged)
        #expect(client.run("HGET", ClusterSnapshotStore.snapshotKey, "taken").string == "marker", "the hash was not rewritten")
        // A second store (a restarted instance) sees the stored position and does not rewrite it either.
        _ = client.run("DEL", ClusterSnapshotStore.leaseKey)
        let second = ClusterSnapshotStore(client: client, instance: "b", interval: .seconds(60))
        #expect(await blocking { second.snapshotNow(broker: broker) } == .unchanged)
        #expect(taken.string != nil)
        broker.shutdown()
        _ = redis
    }

    @Test func trimmingKeepsEveryEntryAfterThePreviousSnapshot() async throws {
        let (redis, client, store) = try setUp()
        let (broker, _) = await makeSnapshotBroker(log)
        var mirrored: SharedLogPosition?
        var positions: [SharedLogPosition] = []
        for round in 0..<3 {
            await post(broker, "r\(round)-", count: 4, at: 1_000 + Int64(round) * 100)
            await settle(broker)
            mirrored = mirror(log, to: client, after: mirrored)
            let outcome = await blocking { store.snapshotNow(broker: broker) }
            guard case .written(let position, _, let trimmed) = outcome else {
                Issue.record("round \(round): \(outcome)")
                return
            }
            positions.append(position)
            let first = client.run("XRANGE", ClusterSnapshotStore.streamKey, "-", "+", "COUNT", "1").array?.first?.array?.first?.string
            let length = client.run("XLEN", ClusterSnapshotStore.streamKey).integer
            let previous = client.run("HGET", ClusterSnapshotStore.snapshotKey, "previous").string
            if round == 0 {
                #expect(trimmed == 0 && first == "0-1" && length == 4 && previous == "", "the first snapshot trims nothing")
            } else {
                // Entries before the previous snapshot's position go; it and all later ones stay.
                let kept = Int64(position.low - positions[round - 1].low + 1)
                #expect(first == positions[round - 1].description)
                #expect(length == kept)
                let firstBefore = round >= 2 ? positions[round - 2].low : 1
                #expect(trimmed == Int(positions[round - 1].low - firstBefore), "what lay before the previous snapshot")
                #expect(previous == positions[round - 1].description)
            }
        }
        broker.shutdown()
        _ = redis
    }

    @Test func aChangedEpochRefusesTheWriteAndTheLoad() async throws {
        let (redis, client, store) = try setUp()
        let (broker, _) = await makeSnapshotBroker(log)
        await post(broker, "t", count: 2)
        await settle(broker)
        #expect(await blocking { store.load(configuration: snapshotRules) } == nil, "no snapshot yet")
        _ = client.run("SET", ClusterSnapshotStore.epochKey, "fedcba9876543210")
        #expect(await blocking { store.snapshotNow(broker: broker) } == .refused("the stream epoch changed"))
        #expect(client.run("EXISTS", ClusterSnapshotStore.snapshotKey) == .integer(0))
        broker.shutdown()
        _ = redis
    }
}

@Suite("Cluster snapshot store: keys")
struct ClusterSnapshotStoreKeysTests {
    @Test func theKeysShareTheStreamsHashTagAndPrefix() {
        #expect(
            ClusterSnapshotStore.Keys()
                == ClusterSnapshotStore.Keys(stream: "{syndicast}:stream"))
        let contract = ClusterSnapshotStore.Keys()
        #expect(
            [contract.snapshot, contract.lease, contract.epoch] == [
                "{syndicast}:snapshot", "{syndicast}:snapshot-lease", "{syndicast}:epoch",
            ])
        #expect(contract.part("broker", epoch: "0123456789abcdef", position: "17-2") == "{syndicast}:snapshot:0123456789abcdef:17-2:broker")
        #expect(contract.staging("monitor", instance: "i9") == "{syndicast}:snapshot-staging:i9:monitor")
        let other = ClusterSnapshotStore.Keys(stream: "{t7}:stream")
        #expect(
            [other.stream, other.snapshot, other.lease, other.epoch] == [
                "{t7}:stream", "{t7}:snapshot", "{t7}:snapshot-lease", "{t7}:epoch",
            ])
    }
}
