import Basics
import PropertyBased
import Testing

@testable import Monitor

/// ``TransactionMonitor/encodeSnapshot()`` and ``TransactionMonitor/init(snapshot:configuration:)``:
/// a restored monitor must behave exactly like the one the snapshot was taken of.
@Suite("Monitor: snapshots")
struct MonitorSnapshotTests {
    /// W = 3 s, S = 2, K = 3, four recent alerts; the margin varies.
    static func configuration(margin: Int64?) -> MonitorConfiguration {
        MonitorConfiguration(
            amountThreshold: Money(cents: 2_000_000), spikeWindowSeconds: 3, spikeThreshold: 2, topK: 3, recentAlertCapacity: 4,
            spikeClockMarginSeconds: margin)
    }

    /// Investor, syndicate (below 200: five hot syndicates; above: many cold ones), amount choice,
    /// time step in ms (negative: out of order; above 2400 a jump past the window).
    static let steps = zip(Gen.int(in: 0...39), Gen.int(in: 0...299), Gen.int(in: 0...9), Gen.int(in: -4_000...2_500))
        .array(of: 1...200)

    static func stream(_ steps: [(Int, Int, Int, Int)]) -> [Transaction] {
        var clock: Int64 = 1_000_000
        return steps.enumerated().map { index, step in
            clock += Int64(step.3 / 400 * 400) + (step.3 > 2_400 ? 20_000 : 0)
            let syndicate = step.1 < 200 ? "s\(step.1 % 5)" : "cold-\(step.1)"
            let cents: Int64 = [0, 100, 200, 300, 400, 500, 600, 700, 2_000_000, 2_500_000][step.2]
            return transaction("i\(step.0)", syndicate, cents: cents, at: clock, id: index % 3 == 0 ? nil : "t\(index)")
        }
    }

    /// Everything a client can observe, as JSON and values: rankings, every investor and
    /// syndicate summary, the recent alerts, the counts and the window memory.
    static func observation(_ monitor: TransactionMonitor, _ stream: [Transaction]) -> [String] {
        let investors = Set(stream.map(\.investorId)).sorted()
        let syndicates = Set(stream.map(\.syndicateId)).sorted()
        var writer = JSONWriter()
        writer.appendArray(monitor.rankings(limit: 1_000))
        writer.appendArray(monitor.leaderboard)
        writer.appendArray(monitor.recentAlerts(limit: 100))
        writer.appendArray(investors.compactMap { monitor.investor($0) })
        return [String(decoding: writer.bytes, as: UTF8.self), "\(monitor.counts)", "\(monitor.spikeWindowEntryCount)"]
            + syndicates.map { "\(String(describing: monitor.syndicate($0)))" }
    }

    static func restored(_ monitor: TransactionMonitor) throws -> TransactionMonitor {
        try TransactionMonitor(snapshot: monitor.encodeSnapshot(), configuration: monitor.configuration)
    }

    @Test("apply(0..<k), snapshot, restore, apply(k..<n) equals apply(0..<n): state, events, next snapshot")
    func splitAnywhere() async {
        await propertyCheck(count: 150, input: zip(Self.steps, Gen.int(in: 0...10_000), Gen.int(in: 0...2))) { input in
            let (steps, split, marginChoice) = input
            let stream = Self.stream(steps)
            let configuration = Self.configuration(margin: [nil, 0, 2][marginChoice])
            let k = split % (stream.count + 1)
            var whole = TransactionMonitor(configuration: configuration)
            for transaction in stream[..<k] { _ = whole.apply(transaction) }
            guard var restored = try? Self.restored(whole) else {
                Issue.record("restore failed")
                return
            }
            #expect(Self.observation(restored, stream) == Self.observation(whole, stream))
            #expect(restored.encodeSnapshot() == whole.encodeSnapshot())
            for transaction in stream[k...] {
                #expect(restored.apply(transaction) == whole.apply(transaction))
            }
            #expect(Self.observation(restored, stream) == Self.observation(whole, stream))
            #expect(restored.encodeSnapshot() == whole.encodeSnapshot())
            // The next alerts too: a burst on every syndicate and one large amount.
            for syndicate in Set(stream.map(\.syndicateId)).sorted() {
                let burst = transaction("late", syndicate, cents: 3_000_000, at: (stream.last?.timestamp ?? 0) + 1)
                for _ in 0..<3 { #expect(restored.apply(burst) == whole.apply(burst)) }
            }
        }
    }

    @Test("encode(decode(encode(m))) == encode(m), and every window's count is the sum of its entries")
    func canonical() async {
        await propertyCheck(count: 100, input: Self.steps) { steps in
            var monitor = TransactionMonitor(configuration: Self.configuration(margin: 0))
            for transaction in Self.stream(steps) { _ = monitor.apply(transaction) }
            let bytes = monitor.encodeSnapshot()
            #expect((try? TransactionMonitor(snapshot: bytes, configuration: monitor.configuration).encodeSnapshot()) == bytes)
            for state in monitor.syndicateStates {
                let window = state.window
                let live = window.allChunks.enumerated().reduce(0) { sum, chunk in
                    sum + chunk.element[(chunk.offset == 0 ? window.head : 0)...].reduce(0) { $0 + $1.count }
                }
                #expect(live + window.newestPending == window.count)
            }
        }
    }

    @Test("a syndicate set past the inline bits and past the array limit, and a window of many chunks, restore exactly")
    func largeMembers() throws {
        var monitor = TransactionMonitor(configuration: Self.configuration(margin: nil))
        for index in 0..<1_300 { _ = monitor.apply(transaction("whale", "s\(index)", cents: 1, at: Int64(index))) }
        // 2,000 distinct timestamps inside one 3 s window, and some late ones between them.
        for index in 0..<2_000 { _ = monitor.apply(transaction("i\(index % 7)", "busy", cents: 5, at: 10_000 + Int64(index))) }
        for index in 0..<50 { _ = monitor.apply(transaction("i1", "busy", cents: 5, at: 10_500 + Int64(index) * 3)) }
        var restored = try Self.restored(monitor)
        #expect(restored.investor("whale") == monitor.investor("whale"))
        #expect(restored.investor("whale")?.syndicateCount == 1_300)
        #expect(restored.syndicate("busy") == monitor.syndicate("busy"))
        #expect(restored.spikeWindowEntryCount == monitor.spikeWindowEntryCount)
        for step in 0..<3_000 {
            let next = transaction("i\(step % 11)", step % 2 == 0 ? "busy" : "s\(step)", cents: 7, at: 11_000 + Int64(step % 900) * 3)
            #expect(restored.apply(next) == monitor.apply(next))
        }
        #expect(restored.encodeSnapshot() == monitor.encodeSnapshot())
    }

    @Test("a snapshot taken under another configuration is refused")
    func configurationMismatch() {
        var monitor = TransactionMonitor(configuration: Self.configuration(margin: 0))
        _ = monitor.apply(transaction("i", "s", cents: 100, at: 1))
        let bytes = monitor.encodeSnapshot()
        for other in [Self.configuration(margin: nil), Self.configuration(margin: 1), MonitorConfiguration()] {
            #expect(throws: MonitorSnapshotError.configurationMismatch(snapshot: monitor.configuration, expected: other)) {
                try TransactionMonitor(snapshot: bytes, configuration: other)
            }
        }
    }

    static func sample() -> TransactionMonitor {
        var monitor = TransactionMonitor(configuration: Self.configuration(margin: 0))
        for transaction in Self.stream((0..<60).map { ($0 % 9, $0 * 37 % 300, $0 % 10, ($0 * 1_237) % 6_500 - 4_000) }) {
            _ = monitor.apply(transaction)
        }
        return monitor
    }

    @Test("every truncation throws, with the checksum intact or recomputed over the shortened body")
    func truncations() {
        let bytes = Self.sample().encodeSnapshot()
        let configuration = Self.configuration(margin: 0)
        for length in 0..<bytes.count {
            let prefix = Array(bytes[..<length])
            #expect(throws: MonitorSnapshotError.self) { try TransactionMonitor(snapshot: prefix, configuration: configuration) }
            // Below the body's own length (a prefix of `count − 8` bytes is the whole body).
            guard length >= 5, length < bytes.count - 8 else { continue }
            #expect(throws: MonitorSnapshotError.self) {
                try TransactionMonitor(snapshot: Self.withChecksum(Array(bytes[..<length])), configuration: configuration)
            }
        }
    }

    /// `body` (magic, version, fields) with its checksum appended.
    static func withChecksum(_ body: [UInt8]) -> [UInt8] {
        let checksum = SnapshotReader.checksum(of: body[...])
        return body + (0..<8).map { UInt8(truncatingIfNeeded: checksum >> UInt64(8 * $0)) }
    }

    @Test("random byte flips are caught by the checksum; behind a recomputed one they throw or restore a usable monitor")
    func byteFlips() async {
        let bytes = Self.sample().encodeSnapshot()
        let configuration = Self.configuration(margin: 0)
        await propertyCheck(count: 400, input: zip(Gen.int(in: 0...100_000), Gen.int(in: 1...255), Gen.int(in: 1...4))) { input in
            var damaged = bytes
            for flip in 0..<input.2 { damaged[(input.0 + flip * 7_919) % damaged.count] ^= UInt8(input.1) }
            #expect(throws: MonitorSnapshotError.self) { try TransactionMonitor(snapshot: damaged, configuration: configuration) }
            let rehashed = Self.withChecksum(Array(damaged.dropLast(8)))
            guard var monitor = try? TransactionMonitor(snapshot: rehashed, configuration: configuration) else { return }
            // Whatever decoded must keep working and re-encode canonically.
            #expect(monitor.encodeSnapshot() == rehashed)
            for index in 0..<20 {
                _ = monitor.apply(transaction("i\(index % 3)", "s\(index % 4)", cents: 2_500_000, at: Int64(index) * 500))
            }
        }
    }

    @Test("leaders naming no investor are refused (found by the fuzz target: it trapped)")
    func leaderWithoutInvestors() {
        // Default configuration, one transaction counted, no syndicates, no investors, two leaders.
        let body: [UInt8] = [
            0x80, 0x89, 0x7a, 0xa0, 0x38, 0xc8, 0x01, 0x0a, 0xd0, 0x0f, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        ]
        #expect(throws: MonitorSnapshotError.malformed("leader count 2 out of range")) {
            try TransactionMonitor(snapshot: Self.withChecksum(Array("SYNM".utf8) + [1] + body), configuration: MonitorConfiguration())
        }
    }

    @Test("an empty monitor, a foreign blob and a future version are told apart")
    func headers() throws {
        let configuration = MonitorConfiguration()
        let empty = TransactionMonitor(configuration: configuration).encodeSnapshot()
        let restored = try TransactionMonitor(snapshot: empty, configuration: configuration)
        #expect(restored.counts == MonitorCounts())
        #expect(throws: MonitorSnapshotError.notASnapshot) {
            try TransactionMonitor(snapshot: Array("SQLite".utf8), configuration: configuration)
        }
        #expect(throws: MonitorSnapshotError.truncated) {
            try TransactionMonitor(snapshot: Array("SYN".utf8), configuration: configuration)
        }
        var future = empty
        future[4] = 2
        #expect(throws: MonitorSnapshotError.unsupportedVersion(2)) {
            try TransactionMonitor(snapshot: future, configuration: configuration)
        }
    }
}
