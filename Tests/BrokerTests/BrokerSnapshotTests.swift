import Monitor
import Testing

@testable import Broker

@Suite("Broker: snapshot of the sequence number and counters")
struct BrokerSnapshotTests {
    @Test("a broker restored from both snapshots numbers the next events as the original does")
    func restoredBrokerContinues() async throws {
        let original = makeBroker(RecordingJournal())
        _ = await ingest(original, [transaction("t1", "i1", "s1", cents: 20_000), transaction("t2", "i2", "s1", cents: 100)])
        _ = await ingest(original, [transaction("t3", "i2", "s1", cents: 100)])
        let brokerBytes = await original.snapshot().encode()
        let monitorBytes = await original.state.encodeSnapshot()
        let configuration = await original.state.configuration

        let restored = MessageBroker(
            monitor: try TransactionMonitor(snapshot: monitorBytes, configuration: configuration), epoch: "e1",
            configuration: BrokerConfiguration()
        ) { _ in }
        await restored.restore(try BrokerSnapshot(decoding: brokerBytes))
        #expect(await restored.currentSeq == original.currentSeq)
        #expect(await restored.counts == original.counts)
        #expect(await restored.stats.transactions == 3)

        let sinks = (RecordingSink(), RecordingSink())
        await original.addSink(sinks.0)
        await restored.addSink(sinks.1)
        let next = [transaction("t4", "i3", "s1", cents: 50_000), transaction("t5", "i3", "s2", cents: 100)]
        let outcomes = (await ingest(original, next), await ingest(restored, next))
        #expect(outcomes.0 == outcomes.1)
        // Seven events before (3 transactions, an amount and a spike alert, 2 rankings); then t4, its alert, t5.
        #expect(outcomes.0 == .accepted(accepted: 2, duplicates: 0, firstSeq: 8, lastSeq: 10))
        #expect(sinks.1.events.first?.seq == (try BrokerSnapshot(decoding: brokerBytes)).seq + 1)
        #expect(sinks.0.events.map(\.seq) == sinks.1.events.map(\.seq))
        #expect(sinks.0.events.map(\.topic) == sinks.1.events.map(\.topic))
        #expect(await restored.counts == original.counts)
        original.shutdown()
        restored.shutdown()
    }

    @Test("encode and decode round-trip; truncations and flips throw")
    func codec() throws {
        let snapshot = BrokerSnapshot(seq: 1 << 40, transactions: 1_000_000, amountThresholdAlerts: 3, syndicateSpikeAlerts: 700)
        let bytes = snapshot.encode()
        #expect(try BrokerSnapshot(decoding: bytes) == snapshot)
        #expect(bytes.count == 5 + 6 + 3 + 1 + 2 + 8)
        for length in 0..<bytes.count {
            #expect(throws: BrokerSnapshot.DecodingError.self) { try BrokerSnapshot(decoding: Array(bytes[..<length])) }
        }
        for index in bytes.indices {
            var damaged = bytes
            damaged[index] ^= 0x10
            #expect(throws: BrokerSnapshot.DecodingError.self) { try BrokerSnapshot(decoding: damaged) }
        }
        #expect(throws: BrokerSnapshot.DecodingError.notASnapshot) { try BrokerSnapshot(decoding: TransactionMonitor().encodeSnapshot()) }
    }
}
