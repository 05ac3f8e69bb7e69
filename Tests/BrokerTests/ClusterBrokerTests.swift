import Journal
import Monitor
import Synchronization
import Testing

@testable import Broker

/// The journal's payload codec, as the server passes it.
let journalPayloadCodec = SharedLogCodec(encode: { JournalPayloadCodec.encode($0) }, decode: { try JournalPayloadCodec.decode($0) })

/// A cluster-mode broker on `log` with a recording sink, reading (unless `read` is false).
func makeClusterBroker(_ log: InMemorySharedLog, read: Bool = true) async -> (MessageBroker, RecordingSink) {
    let broker = MessageBroker(
        monitor: TransactionMonitor(
            configuration: MonitorConfiguration(amountThreshold: Money(cents: 10_000), spikeWindowSeconds: 60, spikeThreshold: 2)),
        epoch: "e1", sharedLog: log, codec: journalPayloadCodec)
    let sink = RecordingSink()
    await broker.addSink(sink)
    if read { broker.startReading() }
    return (broker, sink)
}

/// Waits until the broker has sent the writes queued before and handled what the log answered
/// and delivered for them. The in-memory log appends and delivers synchronously: the first query
/// sends the gathered writes (a read sends them first), whose completion and entries are then
/// queued ahead of the second query.
func settle(_ broker: MessageBroker) async {
    for _ in 0..<2 {
        await withCheckedContinuation { continuation in broker.query { _ in continuation.resume() } }
    }
}

func publish(_ broker: MessageBroker, topic: String, _ text: String) async -> PublishOutcome {
    await withCheckedContinuation { continuation in
        broker.publish(topic: topic, data: Array(text.utf8)) { continuation.resume(returning: $0) }
    }
}

/// Each event as `seq topic json`: equal lists mean the same events with the same numbers.
func transcript(_ sink: RecordingSink) -> [String] {
    sink.events.map { "\($0.seq) \($0.topic) " + String(decoding: $0.encodeJSON(), as: UTF8.self) }
}

/// The sequence number of transaction `id`'s event.
func seq(of id: String, in sink: RecordingSink) -> UInt64? {
    sink.events.first { $0.transaction?.id == id }?.seq
}

/// Collects the outcomes of a batched ingest by token.
final class ReplyCollector: IngestReplyTarget {
    let replies = Mutex<[Int: IngestOutcome]>([:])
    func deliver(_ replies: [IngestReply]) {
        self.replies.withLock { collected in
            for reply in replies { if let token = reply.token as? Int { collected[token] = reply.outcome } }
        }
    }
}

@Suite("Broker cluster mode: brokers on one shared log")
struct ClusterBrokerTests {
    @Test func aPostThroughOneInstanceYieldsTheSameEventsAndSequenceNumbersOnEvery() async {
        let log = InMemorySharedLog()
        let (a, sinkA) = await makeClusterBroker(log)
        let (b, sinkB) = await makeClusterBroker(log)
        let (c, sinkC) = await makeClusterBroker(log)
        // Three in s1 within 60 s: a spike (more than 2); 20,000 cents: an amount alert.
        let outcome = await ingest(
            a,
            [
                transaction("t1", "i1", "s1", cents: 20_000, at: 1_000), transaction("t2", "i2", "s1", cents: 100, at: 2_000),
                transaction("t3", "i3", "s1", cents: 100, at: 3_000),
            ])
        let published = await publish(b, topic: "orders", "{\"n\":1}")
        for broker in [a, b, c] { await settle(broker) }
        let events = sinkA.events
        #expect(outcome == .accepted(accepted: 3, duplicates: 0, firstSeq: 1, lastSeq: events.last { $0.topic == "transactions" }?.seq))
        #expect(published == .published(seq: events.last?.seq ?? 0))
        #expect(Set(events.map(\.topic)) == ["transactions", "alerts", "rankings", "orders"])
        let rules = events.compactMap { event -> String? in
            if case .alert(let alert) = event.body { return alert.rule.rawValue }
            return nil
        }
        #expect(rules == ["amount_threshold", "syndicate_spike"])
        #expect(events.map(\.seq) == Array(1...UInt64(events.count)))
        #expect(transcript(sinkB) == transcript(sinkA))
        #expect(transcript(sinkC) == transcript(sinkA))
        let seqs = [await a.currentSeq, await b.currentSeq, await c.currentSeq]
        #expect(seqs == Array(repeating: UInt64(events.count), count: 3))
        for broker in [a, b, c] { broker.shutdown() }
    }

    @Test func theSameIdThroughTwoInstancesIsStoredOnceAndOtherContentIsAConflict() async {
        let log = InMemorySharedLog()
        let (a, sinkA) = await makeClusterBroker(log)
        let (b, sinkB) = await makeClusterBroker(log)
        #expect(
            await ingest(a, [transaction("t1", "i1", "s1", cents: 100)]) == .accepted(accepted: 1, duplicates: 0, firstSeq: 1, lastSeq: 1))
        #expect(
            await ingest(b, [transaction("t1", "i1", "s1", cents: 100, at: 9_000)])
                == .accepted(accepted: 0, duplicates: 1, firstSeq: nil, lastSeq: nil))
        let conflict = await ingest(b, [transaction("t1", "i1", "s1", cents: 999)])
        guard case .idConflict(let details) = conflict else {
            Issue.record("expected a conflict, got \(conflict)")
            return
        }
        #expect(details.map(\.index) == [0])
        #expect(details.first?.reason.contains("\"t1\"") == true)
        for broker in [a, b] { await settle(broker) }
        #expect(log.entries.count == 1)
        #expect(sinkA.events.compactMap(\.transaction?.id) == ["t1"])
        #expect(sinkB.events.compactMap(\.transaction?.id) == ["t1"])
        for broker in [a, b] { broker.shutdown() }
    }

    @Test func aConflictRefusesOnlyItsRequestWithinAGroup() async {
        let log = InMemorySharedLog()
        let (a, _) = await makeClusterBroker(log)
        let (b, sinkB) = await makeClusterBroker(log)
        _ = await ingest(a, [transaction("t1", "i1", "s1", cents: 100)])
        let collector = ReplyCollector()
        let requests = [
            IngestRequest(transactions: [transaction("t9", "i9", "s2", cents: 50)], token: 0),
            IngestRequest(transactions: [transaction("t1", "i1", "s1", cents: 777), transaction("t10", "i9", "s2", cents: 50)], token: 1),
            IngestRequest(transactions: [transaction("t1", "i1", "s1", cents: 100), transaction("t11", "i9", "s2", cents: 50)], token: 2),
        ]
        a.ingest(requests, target: collector)
        for broker in [a, b] { await settle(broker) }
        let replies = collector.replies.withLock { $0 }
        let (t9, t11) = (seq(of: "t9", in: sinkB), seq(of: "t11", in: sinkB))
        #expect(t9 != nil && t11 != nil)
        #expect(replies[0] == .accepted(accepted: 1, duplicates: 0, firstSeq: t9, lastSeq: t9))
        guard case .idConflict(let details)? = replies[1] else {
            Issue.record("expected a conflict, got \(String(describing: replies[1]))")
            return
        }
        #expect(details.map(\.index) == [0])
        #expect(replies[2] == .accepted(accepted: 1, duplicates: 1, firstSeq: t11, lastSeq: t11))
        #expect(log.entries.count == 2)
        // "t1" is in A's window: the conflict is refused before the append (the entry holds the
        // two other requests), and the duplicate travels as a known one.
        #expect(log.entries.last?.skip?.text == "1.0")
        #expect(sinkB.events.compactMap(\.transaction?.id) == ["t1", "t9", "t11"])
        for broker in [a, b] { broker.shutdown() }
    }

    @Test func aFailedAppendIsUnavailableAppliesNothingAndIngestGoesOn() async {
        let log = InMemorySharedLog()
        let (a, sinkA) = await makeClusterBroker(log)
        let (b, sinkB) = await makeClusterBroker(log)
        log.failNextAppends(2, message: "connection refused")
        let refused = await ingest(a, [transaction("t1", "i1", "s1", cents: 100)])
        guard case .unavailable(let reason) = refused else {
            Issue.record("expected unavailable, got \(refused)")
            return
        }
        #expect(reason.contains("connection refused"))
        guard case .unavailable = await publish(a, topic: "orders", "1") else {
            Issue.record("expected the publish to be unavailable")
            return
        }
        for broker in [a, b] { await settle(broker) }
        #expect(log.entries.isEmpty)
        #expect(sinkA.events.isEmpty && sinkB.events.isEmpty)
        let seqs = [await a.currentSeq, await b.currentSeq]
        #expect(seqs == [0, 0])
        // Not fail-stop: the same id goes through once the log is back.
        #expect(
            await ingest(a, [transaction("t1", "i1", "s1", cents: 100)]) == .accepted(accepted: 1, duplicates: 0, firstSeq: 1, lastSeq: 1))
        #expect(await a.failure == nil)
        for broker in [a, b] { broker.shutdown() }
    }

    @Test func aBrokerStartedLaterCatchesUpAndReportsIt() async {
        let log = InMemorySharedLog()
        let (a, sinkA) = await makeClusterBroker(log)
        for index in 0..<5 {
            _ = await ingest(a, [transaction("t\(index)", "i\(index % 2)", "s\(index % 3)", cents: 6_000 * Int64(index + 1))])
        }
        _ = await publish(a, topic: "orders", "{}")
        let (late, lateSink) = await makeClusterBroker(log, read: false)
        #expect(!late.isCaughtUp)
        log.holdDelivery()
        let readyAtSeq = Mutex<UInt64?>(nil)
        late.startReading { [late] in readyAtSeq.withLock { $0 = late.assumeIsolated { $0.currentSeq } } }
        await settle(late)
        #expect(!late.isCaughtUp && readyAtSeq.withLock { $0 } == nil)
        #expect(await late.currentSeq == 0)
        log.releaseDelivery()
        await settle(late)
        #expect(late.isCaughtUp)
        #expect(a.isCaughtUp)
        let (lateSeq, seq) = (await late.currentSeq, await a.currentSeq)
        #expect(lateSeq == seq && seq > 5)
        #expect(readyAtSeq.withLock { $0 } == seq)
        #expect(await late.appliedPosition == log.entries.last?.position)
        #expect(transcript(lateSink) == transcript(sinkA))
        let (lateLeaders, leaders) = (await late.state.leaderboard, await a.state.leaderboard)
        #expect(lateLeaders == leaders && !leaders.isEmpty)
        for broker in [a, late] { broker.shutdown() }
    }

    @Test func aBrokerStartedFromASnapshotPositionGoesOnFromItsSeq() async {
        let log = InMemorySharedLog()
        let (a, sinkA) = await makeClusterBroker(log)
        for index in 1...3 { _ = await publish(a, topic: "orders", "\(index)") }
        let (snapshotPosition, snapshotSeq) = (await a.appliedPosition, await a.currentSeq)
        for index in 4...5 { _ = await publish(a, topic: "orders", "\(index)") }
        let resumed = MessageBroker(
            monitor: TransactionMonitor(), epoch: "e1", sharedLog: log, codec: journalPayloadCodec, startPosition: snapshotPosition,
            seq: snapshotSeq)
        let sink = RecordingSink()
        await resumed.addSink(sink)
        resumed.startReading()
        await settle(resumed)
        #expect(resumed.isCaughtUp)
        #expect(snapshotSeq == 3 && transcript(sink) == Array(transcript(sinkA).suffix(2)))
        let applied = await resumed.appliedPosition
        #expect(applied == log.entries.last?.position)
        for broker in [a, resumed] { broker.shutdown() }
    }

    @Test func aResumeOnAnotherInstanceGetsTheEventsAfterItsLastSeq() async {
        let log = InMemorySharedLog()
        let (a, _) = await makeClusterBroker(log)
        let (b, _) = await makeClusterBroker(log)
        for index in 1...5 { _ = await publish(a, topic: "orders", "{\"n\":\(index)}") }
        await settle(b)
        let start = await withCheckedContinuation { continuation in
            b.subscribe(SubscriptionRequest(topics: ["orders"], since: 2, epoch: "e1") { continuation.resume(returning: $0) })
        }
        let texts = start.messages.dropFirst().map { String(decoding: $0, as: UTF8.self) }
        #expect(texts.count == 3)
        #expect(texts.enumerated().allSatisfy { $1.contains("\"seq\":\($0 + 3)") && $1.contains("{\"n\":\($0 + 3)}") })
        #expect(start.seq == 5)
        for broker in [a, b] { broker.shutdown() }
    }

    @Test func anAnswerWaitsForItsEntryWhenTheAppendCompletesFirst() async {
        let log = InMemorySharedLog()
        let (a, sinkA) = await makeClusterBroker(log)
        log.holdDelivery()
        let outcome = Mutex<IngestOutcome?>(nil)
        a.ingest([transaction("t1", "i1", "s1", cents: 100)]) { result in outcome.withLock { $0 = result } }
        await settle(a)
        #expect(log.entries.count == 1)
        #expect(outcome.withLock { $0 } == nil)
        #expect(sinkA.events.isEmpty)
        log.releaseDelivery()
        await settle(a)
        #expect(outcome.withLock { $0 } == .accepted(accepted: 1, duplicates: 0, firstSeq: 1, lastSeq: 1))
        a.shutdown()
    }

    /// A cluster broker on `log` whose appends wait at most `wait` for its own entry.
    func broker(_ log: InMemorySharedLog, ownEntryWait wait: Duration) -> MessageBroker {
        var configuration = BrokerConfiguration()
        configuration.ownEntryWait = wait
        let broker = MessageBroker(
            monitor: TransactionMonitor(), epoch: "e1", configuration: configuration, sharedLog: log, codec: journalPayloadCodec)
        broker.startReading()
        return broker
    }

    @Test func theNextAppendWaitsForItsOwnEntry() async {
        let log = InMemorySharedLog()
        let a = broker(log, ownEntryWait: .seconds(3_600))
        log.holdDelivery()
        let collector = ReplyCollector()
        a.ingest([IngestRequest(transactions: [transaction("t1", "i1", "s1", cents: 100)], token: 1)], target: collector)
        await settle(a)
        a.ingest([IngestRequest(transactions: [transaction("t2", "i1", "s1", cents: 100)], token: 2)], target: collector)
        await settle(a)
        #expect(log.appendCount == 1, "t2 waits for t1's entry to be applied")
        log.releaseDelivery()
        await settle(a)
        await settle(a)
        #expect(log.appendCount == 2, "applying t1's entry sends t2")
        let replies = collector.replies.withLock { $0 }
        for token in [1, 2] {
            if case .accepted(accepted: 1, duplicates: 0, _, _)? = replies[token] {
            } else {
                Issue.record("request \(token): \(String(describing: replies[token]))")
            }
        }
        a.shutdown()
    }

    @Test func pastTheWaitTheLogDecidesWhatTheWindowCouldNot() async {
        let log = InMemorySharedLog()
        let a = broker(log, ownEntryWait: .zero)
        log.holdDelivery()
        let collector = ReplyCollector()
        a.ingest([IngestRequest(transactions: [transaction("t1", "i1", "s1", cents: 100)], token: 1)], target: collector)
        await settle(a)
        a.ingest([IngestRequest(transactions: [transaction("t1", "i1", "s1", cents: 100)], token: 2)], target: collector)
        await settle(a)
        #expect(log.appendCount == 2, "past the wait the gathered writes go to the log")
        // t1 is not in A's window yet (its entry is held): the log finds it in the entry after the
        // group's position.
        log.releaseDelivery()
        await settle(a)
        let replies = collector.replies.withLock { $0 }
        #expect(replies[2] == .accepted(accepted: 0, duplicates: 1, firstSeq: nil, lastSeq: nil))
        if case .accepted(accepted: 1, duplicates: 0, _, _)? = replies[1] {} else { Issue.record("t1: \(String(describing: replies[1]))") }
        a.shutdown()
    }

    @Test func anAppendCarriesAboutTheGroupLimitAndTheRestTheNext() async {
        let log = InMemorySharedLog()
        var configuration = BrokerConfiguration()
        configuration.groupTransactions = 2
        let a = MessageBroker(
            monitor: TransactionMonitor(), epoch: "e1", configuration: configuration, sharedLog: log, codec: journalPayloadCodec)
        a.startReading()
        log.holdCompletions()
        let collector = ReplyCollector()
        a.ingest([IngestRequest(transactions: [transaction("t1", "i1", "s1", cents: 100)], token: 1)], target: collector)
        await settle(a)
        for token in 2...4 {
            a.ingest([IngestRequest(transactions: [transaction("t\(token)", "i1", "s1", cents: 100)], token: token)], target: collector)
        }
        // A request larger than the limit goes alone.
        let large = (5...7).map { transaction("t\($0)", "i1", "s1", cents: 100) }
        a.ingest([IngestRequest(transactions: large, token: 5)], target: collector)
        await settle(a)
        for _ in 0..<4 {
            log.releaseCompletions()
            await settle(a)
        }
        #expect(log.entries.map { (try? JournalPayloadCodec.decode($0.payload))?.count ?? -1 } == [1, 2, 1, 1])
        #expect(collector.replies.withLock { $0.count } == 5)
        a.shutdown()
    }

    @Test func writesGatheredDuringAnAppendShareTheNextOne() async {
        let log = InMemorySharedLog()
        let (a, sinkA) = await makeClusterBroker(log)
        log.holdCompletions()
        let collector = ReplyCollector()
        a.ingest([IngestRequest(transactions: [transaction("t1", "i1", "s1", cents: 100)], token: 1)], target: collector)
        await settle(a)
        a.ingest([IngestRequest(transactions: [transaction("t2", "i1", "s1", cents: 100)], token: 2)], target: collector)
        a.ingest([IngestRequest(transactions: [transaction("t3", "i1", "s1", cents: 100)], token: 3)], target: collector)
        await settle(a)
        #expect(log.appendCount == 1)
        #expect(collector.replies.withLock { $0.isEmpty })
        log.releaseCompletions()
        await settle(a)
        log.releaseCompletions()
        await settle(a)
        #expect(log.appendCount == 2)
        #expect(log.entries.count == 2)
        let replies = collector.replies.withLock { $0 }
        for (token, id) in [(1, "t1"), (2, "t2"), (3, "t3")] {
            let seq = seq(of: id, in: sinkA)
            #expect(seq != nil && replies[token] == .accepted(accepted: 1, duplicates: 0, firstSeq: seq, lastSeq: seq))
        }
        #expect(sinkA.events.compactMap(\.transaction?.id) == ["t1", "t2", "t3"])
        a.shutdown()
    }

    @Test func shutdownAnswersRequestsStillWaitingForTheLog() async {
        let log = InMemorySharedLog()
        let (a, sinkA) = await makeClusterBroker(log)
        log.holdCompletions()
        let outcomes = Mutex<[IngestOutcome]>([])
        a.ingest([transaction("t1", "i1", "s1", cents: 100)]) { result in outcomes.withLock { $0.append(result) } }
        await settle(a)
        a.ingest([transaction("t2", "i1", "s1", cents: 100)]) { result in outcomes.withLock { $0.append(result) } }
        a.shutdown()
        #expect(outcomes.withLock { $0 } == [.unavailable("the server is stopping"), .unavailable("the server is stopping")])
        log.releaseCompletions()
        #expect(outcomes.withLock { $0.count } == 2)
        // The first append happened: its entry was applied; the second was never sent.
        #expect(log.appendCount == 1 && sinkA.events.compactMap(\.transaction?.id) == ["t1"])
    }

    @Test func damagedEntriesAreSkippedAndCounted() async {
        let log = InMemorySharedLog()
        let (a, _) = await makeClusterBroker(log)
        // A payload that does not decode, and a valid payload with a damaged skip list.
        log.append(group: SharedLogGroup(payload: [0xFF, 0xFF], requests: [.message])) { _ in }
        log.appendDamaged(payload: JournalPayloadCodec.encode([.message(topic: "orders", data: Array("1".utf8))]))
        #expect(
            await ingest(a, [transaction("t1", "i1", "s1", cents: 100)]) == .accepted(accepted: 1, duplicates: 0, firstSeq: 1, lastSeq: 1))
        let statistics = await a.clusterStatistics
        #expect(statistics == ClusterStatistics(appends: 1, appendFailures: 0, appliedEntries: 3, undecodableEntries: 2))
        #expect(SharedLogEntry(position: SharedLogPosition(high: 1, low: 2), payload: [], skipText: Array("0 x".utf8)).skip == nil)
        #expect(
            SharedLogEntry(position: SharedLogPosition(high: 1, low: 2), payload: [], skipText: Array("0 1.2".utf8)).skip?.text == "0 1.2")
        a.shutdown()
    }
}
