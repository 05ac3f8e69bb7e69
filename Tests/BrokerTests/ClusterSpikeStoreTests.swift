import Monitor
import Synchronization
import Testing

@testable import Broker

/// W 10 s, S 3, M 5 s, amount alerts above 100.00: both rules fire on the random input.
private let spikeConfiguration = MonitorConfiguration(
    amountThreshold: Money(cents: 10_000), spikeWindowSeconds: 10, spikeThreshold: 3, spikeClockMarginSeconds: 5)

/// Resumes once every token of a batch has its outcome.
private final class BatchWaiter: IngestReplyTarget {
    private struct State {
        var outcomes: [Int: IngestOutcome] = [:]
        var expected = 0
        var continuation: CheckedContinuation<[Int: IngestOutcome], Never>?
    }
    private let state = Mutex(State())

    func deliver(_ replies: [IngestReply]) {
        let finished = state.withLock { state -> (CheckedContinuation<[Int: IngestOutcome], Never>, [Int: IngestOutcome])? in
            for reply in replies { if let token = reply.token as? Int { state.outcomes[token] = reply.outcome } }
            guard state.outcomes.count == state.expected, let continuation = state.continuation else { return nil }
            state.continuation = nil
            return (continuation, state.outcomes)
        }
        if let (continuation, outcomes) = finished { continuation.resume(returning: outcomes) }
    }

    /// Submits `requests` to `broker` and waits for all their outcomes.
    static func ingest(_ broker: MessageBroker, _ requests: [[Transaction]]) async -> [Int: IngestOutcome] {
        let waiter = BatchWaiter()
        return await withCheckedContinuation { continuation in
            waiter.state.withLock {
                $0.expected = requests.count
                $0.continuation = continuation
            }
            broker.ingest(requests.enumerated().map { IngestRequest(transactions: $1, token: $0) }, target: waiter)
        }
    }
}

/// A small deterministic generator (the test must replay the same input on every run).
private struct Generator {
    var state: UInt64
    mutating func next(_ bound: Int) -> Int {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Int((state >> 33) % UInt64(bound))
    }
}

/// Random requests over three syndicates: bursts, equal timestamps, late ones, far behind, ahead
/// within M, re-sent ids (duplicates, also inside one request) and reused ids with other content
/// (conflicts refusing their request).
private func randomBatches(seed: UInt64, count: Int) -> [[[Transaction]]] {
    var generator = Generator(state: seed)
    var now: Int64 = 1_700_000_000_000
    var used: [Transaction] = []
    var serial = 0
    var batches: [[[Transaction]]] = []
    for _ in 0..<count {
        var batch: [[Transaction]] = []
        for _ in 0...generator.next(3) {
            var request: [Transaction] = []
            for _ in 0...generator.next(5) {
                let kind = generator.next(10)
                let timestamp: Int64
                switch kind {
                case 0..<5:
                    now += [0, 0, 1, 50, 400, 2_000][generator.next(6)]
                    timestamp = now
                case 5..<7: timestamp = now - Int64(generator.next(11_000))
                case 7: timestamp = now - 10_000 - Int64(generator.next(25_000))
                case 8: timestamp = now + Int64(generator.next(5_000))
                default:
                    now += 10_000 + Int64(generator.next(20_000))
                    timestamp = now
                }
                let syndicate = ["s-a", "s-b", "s-é"][generator.next(3)]
                let choice = generator.next(100)
                if !used.isEmpty, choice < 8 {
                    var again = used[generator.next(used.count)]
                    again.timestamp = timestamp
                    request.append(again)
                } else if !used.isEmpty, choice < 10 {
                    var conflicting = used[generator.next(used.count)]
                    conflicting.amount = Money(cents: conflicting.amount.cents + 1)
                    request.append(conflicting)
                } else {
                    serial += 1
                    let id: String? = choice < 30 ? nil : "t\(serial)"
                    let cents = Int64(100 + generator.next(12_000))
                    let made = transaction(id, "i\(generator.next(7))", syndicate, cents: cents, at: timestamp)
                    if id != nil { used.append(made) }
                    request.append(made)
                }
            }
            batch.append(request)
        }
        batches.append(batch)
    }
    return batches
}

@Suite("Cluster mode with the spike rule in the shared log (--spike-store redis)")
struct ClusterSpikeStoreTests {
    @Test(arguments: [UInt64(1), 2, 3])
    func brokersOnTheLogsDecisionsRaiseExactlyTheSingleNodeAlerts(seed: UInt64) async {
        let single = MessageBroker(monitor: TransactionMonitor(configuration: spikeConfiguration), epoch: "e1") { _ in }
        let singleSink = RecordingSink()
        await single.addSink(singleSink)
        let log = InMemorySharedLog()
        var clustered: [(MessageBroker, RecordingSink)] = []
        for _ in 0..<2 {
            let broker = MessageBroker(
                monitor: TransactionMonitor(configuration: spikeConfiguration), epoch: "e1", sharedLog: log, codec: journalPayloadCodec,
                spikeStore: .sharedLog)
            let sink = RecordingSink()
            await broker.addSink(sink)
            broker.startReading()
            clustered.append((broker, sink))
        }
        for (step, batch) in randomBatches(seed: seed, count: 150).enumerated() {
            let expected = await BatchWaiter.ingest(single, batch)
            let outcomes = await BatchWaiter.ingest(clustered[step % 2].0, batch)
            #expect(outcomes == expected, "step \(step)")
        }
        for (broker, _) in clustered { await settle(broker) }
        let reference = transcript(singleSink)
        let spikeAlerts = singleSink.events.filter { event in
            if case .alert(let alert) = event.body { return alert.rule == .syndicateSpike }
            return false
        }
        #expect(spikeAlerts.count >= 3)
        #expect(log.entries.contains { $0.spikes?.text.contains("-") == true }, "a spike ended")
        for (broker, sink) in clustered {
            #expect(transcript(sink) == reference)
            let monitor = await broker.monitor
            let expected = await single.monitor
            let names = ["s-a", "s-b", "s-é"]
            #expect(monitor.spikeWindowEntryCount == 0, "no spike windows are kept")
            #expect(names.map { monitor.syndicate($0)?.isSpiking } == names.map { expected.syndicate($0)?.isSpiking })
            #expect(names.map { monitor.syndicate($0)?.newestTimestamp } == names.map { expected.syndicate($0)?.newestTimestamp })
            #expect(monitor.counts == expected.counts)
        }
        for (broker, _) in clustered { broker.shutdown() }
        single.shutdown()
    }

    @Test func theDecisionsTextRoundTripsAndADamagedOneMarksTheEntryDamaged() {
        var decisions = SharedLogSpikeDecisions()
        decisions.record(.ended, request: 2, index: 0)
        decisions.record(.alert(count: 101), request: 0, index: 12)
        #expect(decisions.text == "0.12:101 2.0-")
        #expect(SharedLogSpikeDecisions(text: Array("0.12:101 2.0-".utf8)) == decisions)
        #expect(SharedLogSpikeDecisions(text: [UInt8]()) == SharedLogSpikeDecisions())
        for damaged in ["0.1", "0.1:", "x.1:2", "0.1:2 ", "0.1-2", "0:1"] {
            #expect(SharedLogSpikeDecisions(text: Array(damaged.utf8)) == nil, "\(damaged)")
        }
        let entry = SharedLogEntry(
            position: SharedLogPosition(high: 1, low: 0), payload: [], skipText: Array("".utf8), spikeText: Array("0.1:".utf8))
        #expect(entry.skip == nil)
        let plain = SharedLogEntry(position: SharedLogPosition(high: 1, low: 0), payload: [], skipText: Array("0.1".utf8))
        #expect(plain.skip?.text == "0.1" && plain.spikes == nil)
    }

    @Test func theSpikeSectionListsEveryTransactionsSyndicateTimestampAndIdAfterTheFlags() {
        let group = SharedLogGroup(
            payload: [],
            requests: [
                SharedLogRequest(
                    transactions: [transaction("t1", "i1", "s1", cents: 1, at: -5), transaction(nil, "i2", "s2", cents: 1, at: 7)],
                    records: []),
                .message,
            ])
        let rule = SharedLogSpikeRule(configuration: spikeConfiguration)
        let text = rule.arguments(of: group).map { String(decoding: $0, as: UTF8.self) }
        #expect(text == ["spike", "10000", "3", "5000", "s1", "-5", "t1", "s2", "7", ""])
        #expect(rule.argumentCount(of: group) == text.count)
        var unbounded = spikeConfiguration
        unbounded.spikeClockMarginSeconds = nil
        #expect(SharedLogSpikeRule(configuration: unbounded).arguments(of: group)[3] == Array("-".utf8))
    }
}
