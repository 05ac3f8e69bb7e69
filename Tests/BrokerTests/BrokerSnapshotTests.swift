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
        #expect(bytes.count == 5 + 6 + 3 + 1 + 2 + 1 + 1 + 8, "an empty window is its two counts")
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

    /// A window of three ids in two batches (one fingerprint negative, one time past a varint byte).
    static let sample = BrokerSnapshot(
        seq: 42, transactions: 9, amountThresholdAlerts: 1, syndicateSpikeAlerts: 0,
        window: IdempotencyWindow(
            ids: [
                .init(high: 1, low: 2, fingerprint: -3), .init(high: .max, low: 0, fingerprint: .max),
                .init(high: 0, low: 5, fingerprint: 0),
            ],
            batches: [.init(count: 2, time: 1_764_237_600_000), .init(count: 1, time: 1_764_237_600_001)]))

    /// `body` after the magic and version, sealed with its checksum.
    static func sealed(_ body: [UInt8]) -> [UInt8] {
        var bytes = BrokerSnapshot.magic + [BrokerSnapshot.formatVersion] + body
        let checksum = bytes.withUnsafeBytes { BrokerSnapshot.checksum($0) }
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: checksum >> UInt64(shift))) }
        return bytes
    }

    static func varint(_ value: UInt64) -> [UInt8] {
        var bytes: [UInt8] = []
        var remaining = value
        while remaining >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: remaining) | 0x80)
            remaining >>= 7
        }
        return bytes + [UInt8(truncatingIfNeeded: remaining)]
    }

    static func word(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> UInt64(8 * $0)) }
    }

    /// One id (digest 7, 8; fingerprint 9) after the counters `[1, 0, 0, 0]`.
    static let oneId: [UInt8] = [1, 0, 0, 0, 1] + word(7) + word(8) + word(9)

    @Test("the window round-trips: 24 bytes an id, its batches as varints")
    func windowRoundTrip() throws {
        let bytes = Self.sample.encode()
        #expect(try BrokerSnapshot(decoding: bytes) == Self.sample)
        #expect(bytes.count == 5 + 4 + 1 + 3 * 24 + 1 + (1 + 6) + (1 + 6) + 8)
        // The format is canonical: hand-written bytes decode to the snapshot that encodes to them.
        let written = Self.sealed([1, 0, 0, 0, 1] + Self.word(7) + Self.word(8) + Self.word(.max) + [1, 1] + Self.varint(300))
        let decoded = try BrokerSnapshot(decoding: written)
        #expect(decoded.window == IdempotencyWindow(ids: [.init(high: 7, low: 8, fingerprint: -1)], batches: [.init(count: 1, time: 300)]))
        #expect(decoded.encode() == written)
    }

    @Test("every prefix and every flipped bit of a snapshot with a window throws")
    func damagedWindowsThrow() {
        let bytes = Self.sample.encode()
        for length in 0..<bytes.count {
            #expect(throws: BrokerSnapshot.DecodingError.self) { try BrokerSnapshot(decoding: Array(bytes[..<length])) }
        }
        for index in bytes.indices {
            for bit in 0..<8 {
                var damaged = bytes
                damaged[index] ^= 1 << UInt8(bit)
                #expect(throws: BrokerSnapshot.DecodingError.self) { try BrokerSnapshot(decoding: damaged) }
            }
        }
        #expect(throws: BrokerSnapshot.DecodingError.damaged) { try BrokerSnapshot(decoding: bytes + [0]) }
    }

    @Test("counts beyond the bytes, batches beyond the ids and all-zero digests throw")
    func countsAreCheckedBeforeReserving() {
        // Reserving room for these counts would ask for petabytes (and trap): they must throw first.
        #expect(throws: BrokerSnapshot.DecodingError.truncated) {
            try BrokerSnapshot(decoding: Self.sealed([1, 0, 0, 0] + Self.varint(1 << 55) + [0]))
        }
        #expect(throws: BrokerSnapshot.DecodingError.truncated) {
            try BrokerSnapshot(decoding: Self.sealed([1, 0, 0, 0, 2] + Self.word(7) + Self.word(8) + Self.word(9) + [0]))
        }
        #expect(throws: BrokerSnapshot.DecodingError.truncated) {
            try BrokerSnapshot(decoding: Self.sealed(Self.oneId + Self.varint(1 << 50) + [1, 1]))
        }
        #expect(throws: BrokerSnapshot.DecodingError.damaged) { try BrokerSnapshot(decoding: Self.sealed(Self.oneId + [2, 1, 1, 1, 2])) }
        #expect(throws: BrokerSnapshot.DecodingError.damaged) { try BrokerSnapshot(decoding: Self.sealed(Self.oneId + [1, 2, 1])) }
        #expect(throws: BrokerSnapshot.DecodingError.damaged) { try BrokerSnapshot(decoding: Self.sealed(Self.oneId + [1, 0, 1])) }
        #expect(throws: BrokerSnapshot.DecodingError.damaged) {
            try BrokerSnapshot(decoding: Self.sealed([1, 0, 0, 0, 1] + Self.word(0) + Self.word(0) + Self.word(9) + [0]))
        }
        #expect(throws: BrokerSnapshot.DecodingError.damaged) { try BrokerSnapshot(decoding: Self.sealed(Self.oneId + [0, 0])) }
        #expect(throws: Never.self) { try BrokerSnapshot(decoding: Self.sealed(Self.oneId + [1, 1, 0])) }
    }

    @Test("version 1 (no window) is not a snapshot this build reads")
    func versionOneIsRefused() {
        var bytes = BrokerSnapshot.magic + [1, 1, 0, 0, 0]
        let checksum = bytes.withUnsafeBytes { BrokerSnapshot.checksum($0) }
        bytes += Self.word(checksum)
        #expect(throws: BrokerSnapshot.DecodingError.notASnapshot) { try BrokerSnapshot(decoding: bytes) }
    }

    @Test("a broker restored from a snapshot refuses the duplicates the original refuses")
    func restoredBrokerKnowsTheWindow() async throws {
        let original = makeBroker(RecordingJournal())
        _ = await ingest(original, [transaction("t1", "i1", "s1", cents: 100), transaction("t2", "i2", "s1", cents: 200)])
        _ = await ingest(original, [transaction("t3", "i3", "s2", cents: 300)])
        let snapshot = try BrokerSnapshot(decoding: await original.snapshot().encode())
        #expect(snapshot.window.ids.count == 3)
        let monitorBytes = await original.state.encodeSnapshot()
        let configuration = await original.state.configuration
        func restoredBroker(window: Int) async throws -> MessageBroker {
            var brokerConfiguration = BrokerConfiguration()
            brokerConfiguration.idempotencyWindow = window
            let broker = MessageBroker(
                monitor: try TransactionMonitor(snapshot: monitorBytes, configuration: configuration), epoch: "e1",
                configuration: brokerConfiguration
            ) { _ in }
            await broker.restore(snapshot)
            return broker
        }
        let restored = try await restoredBroker(window: 1_000)
        let smaller = try await restoredBroker(window: 1)
        let fresh = makeBroker(RecordingJournal())

        let again = [transaction("t2", "i2", "s1", cents: 200), transaction("t4", "i4", "s1", cents: 400)]
        #expect(counts(await ingest(original, again)) == [1, 1])
        #expect(counts(await ingest(restored, again)) == [1, 1])
        #expect(counts(await ingest(fresh, again)) == [2, 0], "without the window t2 is new")
        // The same id with other content is a conflict on both (the fingerprints were restored).
        let changed = [transaction("t1", "i1", "s1", cents: 999)]
        for broker in [original, restored] {
            guard case .idConflict = await ingest(broker, changed) else {
                Issue.record("t1 with other content is not a conflict")
                continue
            }
        }
        // A window of one keeps the newest id only.
        #expect(counts(await ingest(smaller, [transaction("t3", "i3", "s2", cents: 300)])) == [0, 1])
        #expect(counts(await ingest(smaller, [transaction("t2", "i2", "s1", cents: 200)])) == [1, 0])
        for broker in [original, restored, smaller, fresh] { broker.shutdown() }
    }
}
