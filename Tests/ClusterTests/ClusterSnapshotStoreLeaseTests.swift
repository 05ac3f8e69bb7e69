import Basics
import Broker
import Cluster
import Foundation
import Monitor
import Redis
import Testing

/// The lease: one writer at a time, handed over when the holder stops or its lease expires.
@Suite("Cluster snapshot store: the writer's lease", .enabled(if: SnapshotTestRedis.binary != nil), .serialized)
struct ClusterSnapshotStoreLeaseTests {
    let log = InMemorySharedLog()

    @Test func twoInstancesOnATimerWriteThroughOneHolderAndTheOtherTakesOverWhenItStops() async throws {
        let redis = try SnapshotTestRedis()
        let setup = try redis.client()
        _ = setup.run("SET", ClusterSnapshotStore.epochKey, log.epoch)
        let (brokerA, _) = await makeSnapshotBroker(log)
        let (brokerB, _) = await makeSnapshotBroker(log)
        let logsA = LogRecorder()
        let logsB = LogRecorder()
        let storeA = ClusterSnapshotStore(client: try redis.client(), instance: "a", interval: .milliseconds(200), log: logsA.log)
        let storeB = ClusterSnapshotStore(client: try redis.client(), instance: "b", interval: .milliseconds(200), log: logsB.log)
        storeA.start(broker: brokerA)
        storeB.start(broker: brokerB)
        // Both brokers apply every entry, whichever posts it: both have something to write each round.
        for round in 0..<16 {
            await post(round % 2 == 0 ? brokerA : brokerB, "p\(round)-", count: 2, at: 1_000 + Int64(round) * 10)
            try await Task.sleep(for: .milliseconds(60))
        }
        let writtenA = logsA.count(containing: "snapshot written")
        let writtenB = logsB.count(containing: "snapshot written")
        #expect((writtenA > 0) != (writtenB > 0), "exactly one instance writes: a \(writtenA), b \(writtenB)")
        let holder = setup.run("GET", ClusterSnapshotStore.leaseKey).string
        #expect(holder == (writtenA > 0 ? "a" : "b"))
        #expect(setup.run("HGET", ClusterSnapshotStore.snapshotKey, "instance").string == holder)
        let ttl = setup.run("PTTL", ClusterSnapshotStore.leaseKey).integer ?? 0
        #expect(ttl > 0 && ttl <= 600, "the lease lives three intervals (\(ttl) ms left)")

        // The holder stops (and gives the lease up): the other one writes from its next round on.
        let (stopped, other, otherLogs) = holder == "a" ? (storeA, storeB, logsB) : (storeB, storeA, logsA)
        await blocking { stopped.stop() }
        let before = otherLogs.count(containing: "snapshot written")
        for round in 0..<20 where otherLogs.count(containing: "snapshot written") == before {
            await post(brokerA, "q\(round)-", count: 1, at: 2_000 + Int64(round) * 10)
            try await Task.sleep(for: .milliseconds(60))
        }
        #expect(otherLogs.count(containing: "snapshot written") > before, "the other instance took over")
        #expect(setup.run("GET", ClusterSnapshotStore.leaseKey).string == other.instance)
        await blocking { other.stop() }
        #expect(setup.run("EXISTS", ClusterSnapshotStore.leaseKey) == .integer(0), "a stopped holder releases the lease")
        #expect(!snapshotThreadAlive, "stop() joined both threads")
        for broker in [brokerA, brokerB] { broker.shutdown() }
    }

    @Test func aLeaseLeftByACrashedHolderIsTakenOnceItExpires() async throws {
        let redis = try SnapshotTestRedis()
        let client = try redis.client()
        _ = client.run("SET", ClusterSnapshotStore.epochKey, log.epoch)
        let (broker, _) = await makeSnapshotBroker(log)
        await post(broker, "t", count: 3)
        await settle(broker)
        // A holder that died without releasing: its lease runs out after 400 ms.
        _ = client.run("SET", ClusterSnapshotStore.leaseKey, "crashed", "PX", "400")
        let store = ClusterSnapshotStore(client: client, instance: "a", interval: .seconds(2))
        #expect(await blocking { store.snapshotNow(broker: broker) } == .notLeader)
        #expect(client.run("EXISTS", ClusterSnapshotStore.snapshotKey) == .integer(0))
        var outcome = ClusterSnapshotStore.RoundOutcome.notLeader
        for _ in 0..<40 where outcome == .notLeader {
            try await Task.sleep(for: .milliseconds(50))
            outcome = await blocking { store.snapshotNow(broker: broker) }
        }
        guard case .written = outcome else {
            Issue.record("the expired lease was not taken over: \(outcome)")
            return
        }
        #expect(client.run("GET", ClusterSnapshotStore.leaseKey).string == "a")
        let ttl = client.run("PTTL", ClusterSnapshotStore.leaseKey).integer ?? 0
        #expect(ttl > 5_000 && ttl <= 6_000, "three intervals of 2 s (\(ttl) ms left)")
        broker.shutdown()
    }

    @Test func aBrokerStillCatchingUpDoesNotTakeTheLeaseAndAZeroIntervalStartsNothing() async throws {
        let redis = try SnapshotTestRedis()
        let client = try redis.client()
        _ = client.run("SET", ClusterSnapshotStore.epochKey, log.epoch)
        // Not reading: never caught up.
        let broker = MessageBroker(
            monitor: TransactionMonitor(configuration: snapshotRules), epoch: "e1", sharedLog: log, codec: payloadCodec)
        let store = ClusterSnapshotStore(client: client, instance: "a", interval: .zero)
        #expect(await blocking { store.snapshotNow(broker: broker) } == .notCaughtUp)
        #expect(client.run("EXISTS", ClusterSnapshotStore.leaseKey) == .integer(0))
        store.start(broker: broker)
        #expect(!snapshotThreadAlive, "interval 0: no thread")
        store.stop()
        broker.shutdown()
    }
}

/// Whether a thread named `snapshot` is alive in this process.
var snapshotThreadAlive: Bool { NamedThread.liveThreadNames().contains("snapshot") }
