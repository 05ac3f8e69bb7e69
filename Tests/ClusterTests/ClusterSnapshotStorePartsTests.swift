import Broker
import Foundation
import Monitor
import Redis
import Synchronization
import Testing

@testable import Cluster

/// How ``ClusterSnapshotStore`` lays a snapshot out in Redis (format 3): parts uploaded into
/// staging lists and renamed onto keys of their own by the write script, read back and checked
/// against the lengths the hash records.
@Suite("Cluster snapshot store: staging and part keys", .enabled(if: SnapshotTestRedis.binary != nil))
struct ClusterSnapshotStorePartsTests {
    let log = InMemorySharedLog()

    /// A server, a client with the epoch key set to the log's, and a store on it.
    func setUp(instance: String = "a", logs: LogRecorder = LogRecorder()) throws -> (SnapshotTestRedis, RedisClient, ClusterSnapshotStore) {
        try snapshotStoreOnFreshRedis(epoch: log.epoch, instance: instance, logs: logs)
    }

    @Test func theLoadRefusesPartsOfOtherLengthsThanTheHashRecords() async throws {
        let logs = LogRecorder()
        let (redis, client, store) = try setUp(logs: logs)
        guard let (broker, position) = await brokerWithSnapshot(log, in: store, count: 5) else { return }
        let hash = ClusterSnapshotStore.snapshotKey
        let monitorKey = store.keys.part("monitor", epoch: log.epoch, position: position.description)
        let brokerKey = store.keys.part("broker", epoch: log.epoch, position: position.description)
        let monitorLength = try #require(client.run("HGET", hash, "monitor-length").string)
        #expect(client.partBytes(monitorKey).map { String($0.count) } == monitorLength)
        #expect(client.run("LLEN", monitorKey) == .integer(1), "a part under 1 MiB is one element")

        _ = client.run("RPUSH", brokerKey, "x")
        #expect(await blocking { store.load(configuration: snapshotRules) } == nil, "a broker part one byte longer")
        _ = client.run("RPOP", brokerKey)
        _ = client.run("HSET", hash, "monitor-length", String((Int(monitorLength) ?? 0) + 1))
        #expect(await blocking { store.load(configuration: snapshotRules) } == nil, "a monitor part one byte shorter than recorded")
        _ = client.run("HSET", hash, "monitor-length", monitorLength)
        let renamed = monitorKey + ":away"
        _ = client.run("RENAME", monitorKey, renamed)
        #expect(await blocking { store.load(configuration: snapshotRules) } == nil, "a missing monitor part")
        #expect(logs.count(containing: "not of the lengths the hash records") == 3)
        _ = client.run("RENAME", renamed, monitorKey)
        #expect(await blocking { store.load(configuration: snapshotRules) } != nil, "the restored parts load again")
        broker.shutdown()
        _ = redis
    }

    @Test func aWriteLeavesNoStagingKeysAndDeletesTheReplacedParts() async throws {
        let (redis, client, store) = try setUp()
        let (broker, _) = await makeSnapshotBroker(log)
        var positions: [SharedLogPosition] = []
        for round in 0..<2 {
            await post(broker, "r\(round)-", count: 3, at: 1_000 + Int64(round) * 100)
            await settle(broker)
            guard case .written(let position, let bytes, _) = await blocking({ store.snapshotNow(broker: broker) }) else {
                Issue.record("round \(round): no snapshot written")
                return
            }
            positions.append(position)
            let parts = ["monitor", "broker"].map { store.keys.part($0, epoch: log.epoch, position: position.description) }
            let lengths = parts.map { client.partBytes($0)?.count ?? -1 }
            #expect(lengths.reduce(0, +) == bytes)
            #expect(parts.map { client.run("PTTL", $0).integer } == [-1, -1], "published parts do not expire")
            let keys = Set((client.run("KEYS", "*").array ?? []).compactMap(\.string))
            #expect(
                keys == Set(parts + [ClusterSnapshotStore.snapshotKey, ClusterSnapshotStore.leaseKey, ClusterSnapshotStore.epochKey]),
                "round \(round): only the hash, its two parts, the lease and the epoch: \(keys.sorted())")
            let fields = Set((client.run("HKEYS", ClusterSnapshotStore.snapshotKey).array ?? []).compactMap(\.string))
            #expect(fields == ["format", "epoch", "position", "previous", "monitor-length", "broker-length", "instance", "taken"])
        }
        #expect(positions[0] < positions[1])
        broker.shutdown()
        _ = redis
    }

    @Test func aWriterThatLostTheLeaseLeavesTheStoredSnapshotIntactAndNoStagingKeys() async throws {
        let (redis, client, store) = try setUp()
        guard let (broker, position) = await brokerWithSnapshot(log, in: store, count: 4) else { return }
        let hashBefore = client.run("HGETALL", ClusterSnapshotStore.snapshotKey)
        // Instance b took the lease before a publishes a newer snapshot (a's round took it, then lost it).
        _ = client.run("SET", ClusterSnapshotStore.leaseKey, "b", "PX", "60000")
        let stored = ClusterSnapshotStore.StoredSnapshot(epoch: log.epoch, position: position.description)
        let newer = SharedLogPosition(high: position.high, low: position.low + 5)
        let outcome = await blocking {
            store.publish(
                [("monitor", [UInt8](repeating: 1, count: 3_000_000)), ("broker", [1, 2, 3])], position: newer, epoch: log.epoch,
                replacing: stored)
        }
        #expect(outcome == .refused("the lease is not held by this instance"))
        #expect(client.run("HGETALL", ClusterSnapshotStore.snapshotKey) == hashBefore)
        let staging = ["monitor", "broker"].map { store.keys.staging($0, instance: "a") }
        #expect(staging.map { client.run("EXISTS", $0).integer } == [0, 0], "the refusal deleted the staging keys")
        #expect(client.run("EXISTS", store.keys.part("monitor", epoch: log.epoch, position: newer.description)) == .integer(0))
        let loaded = await blocking { store.load(configuration: snapshotRules) }
        #expect(loaded?.position == position, "the stored snapshot still loads")
        broker.shutdown()
        _ = redis
    }

    @Test func stagingKeysExpireWithTheLeaseAndAnIncompleteUploadIsNotPublished() async throws {
        let (redis, client, store) = try setUp()
        guard case .success(true) = await blocking({ store.takeLease() }) else {
            Issue.record("the lease was not taken")
            return
        }
        let staging = ["monitor", "broker"].map { store.keys.staging($0, instance: "a") }
        let bytes = [UInt8](repeating: 7, count: 2_500_000)
        guard case .success = await blocking({ store.stage(bytes, key: staging[0]) }),
            case .success = await blocking({ store.stage([], key: staging[1]) })
        else {
            Issue.record("the upload failed")
            return
        }
        #expect(client.run("LLEN", staging[0]) == .integer(3), "three chunks of at most 1 MiB")
        #expect(client.partBytes(staging[0]) == bytes)
        #expect(client.run("LLEN", staging[1]) == .integer(1), "an empty part is one empty element")
        let ttl = client.run("PTTL", staging[0]).integer ?? 0
        #expect(ttl > 170_000 && ttl <= 180_000, "a staging key expires with the lease, 3 × 60 s (\(ttl) ms left)")
        // The script is told one chunk more than was staged: refused, nothing published.
        let position = "1000-1"
        let published = ["monitor", "broker"].map { store.keys.part($0, epoch: log.epoch, position: position) }
        let scriptKeys = [store.keys.snapshot, store.keys.lease, store.keys.stream, store.keys.epoch] + staging + published + published
        let reply = client.evaluateAndWait(
            ClusterSnapshotStore.writeScript, keys: scriptKeys.map { Array($0.utf8) },
            arguments: ["a", log.epoch, position, ClusterSnapshotStore.formatVersion, "2500000", "0", "1", "", "4", "1"].map {
                Array($0.utf8)
            })
        #expect(reply == .success(.array([.integer(0), .bulkString(Array("the staged parts are incomplete".utf8))])))
        #expect(staging.map { client.run("EXISTS", $0).integer } == [0, 0], "the refusal deleted the staging keys")
        #expect(client.run("EXISTS", ClusterSnapshotStore.snapshotKey) == .integer(0))
        #expect(published.map { client.run("EXISTS", $0).integer } == [0, 0])
        _ = redis
    }

    @Test func loadsDuringWritesNeverMixOneSnapshotsHashWithAnothersParts() async throws {
        let (redis, _, store) = try setUp()
        let reader = ClusterSnapshotStore(client: try redis.client(), instance: "reader", interval: .seconds(60))
        let (broker, _) = await makeSnapshotBroker(log)
        let loads = Mutex<[(position: UInt64, transactions: Int)]>([])
        let stopping = Atomic<Bool>(false)
        let finished = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            while !stopping.load(ordering: .relaxed) {
                if let loaded = reader.load(configuration: snapshotRules) {
                    loads.withLock { $0.append((loaded.position.low, loaded.broker.transactions)) }
                }
            }
            finished.signal()
        }
        for round in 0..<12 {
            // One transaction per entry: a snapshot at entry n holds n transactions.
            await post(broker, "r\(round)-", count: 1, at: 1_000 + Int64(round))
            await settle(broker)
            guard case .written = await blocking({ store.snapshotNow(broker: broker) }) else {
                Issue.record("round \(round): no snapshot written")
                break
            }
        }
        stopping.store(true, ordering: .relaxed)
        await blocking { finished.wait() }
        let seen = loads.withLock { $0 }
        #expect(!seen.isEmpty)
        for load in seen { #expect(UInt64(load.transactions) == load.position, "the parts belong to the hash's position") }
        broker.shutdown()
        _ = redis
    }
}

extension RedisClient {
    /// A part list's elements joined (nil: no reply).
    func partBytes(_ key: String) -> [UInt8]? {
        run("LRANGE", key, "0", "-1").array.map { $0.flatMap { $0.bytes ?? [] } }
    }

    /// Replaces a part list by `bytes` as one element.
    func setPart(_ key: String, _ bytes: [UInt8]) {
        _ = run("DEL", key)
        _ = sendAndWait([Array("RPUSH".utf8), Array(key.utf8), bytes])
    }
}
