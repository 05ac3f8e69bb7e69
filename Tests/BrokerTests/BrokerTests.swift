import Monitor
import Synchronization
import Testing

@testable import Broker

/// Collects what the broker hands its sinks.
final class RecordingSink: BrokerSink {
    let batches = Mutex<[[BrokerEvent]]>([])
    func deliver(_ events: [BrokerEvent]) { batches.withLock { $0.append(events) } }
    var events: [BrokerEvent] { batches.withLock { $0.flatMap { $0 } } }
}

/// A persist function that records entries and can be told to fail.
final class RecordingJournal: Sendable {
    let entries = Mutex<[JournalEntry]>([])
    let failing = Atomic<Bool>(false)
    struct Failure: Error {}

    func append(_ batch: [JournalEntry]) throws {
        if failing.load(ordering: .relaxed) { throw Failure() }
        entries.withLock { $0 += batch }
    }
}

func transaction(_ id: String?, _ investor: String, _ syndicate: String, cents: Int64, at time: Int64 = 1_000) -> Transaction {
    Transaction(id: id, investorId: investor, syndicateId: syndicate, amount: Money(cents: cents), timestamp: time)
}

func makeBroker(_ journal: RecordingJournal, threshold: Int64 = 10_000, idempotencyWindow: Int = 1_000) -> MessageBroker {
    var configuration = BrokerConfiguration()
    configuration.idempotencyWindow = idempotencyWindow
    return MessageBroker(
        monitor: TransactionMonitor(
            configuration: MonitorConfiguration(amountThreshold: Money(cents: threshold), spikeWindowSeconds: 60, spikeThreshold: 2)),
        epoch: "e1", configuration: configuration
    ) { try journal.append($0) }
}

/// `[accepted, duplicates]` of an accepted outcome, `[]` otherwise.
func counts(_ outcome: IngestOutcome) -> [Int] {
    if case .accepted(let accepted, let duplicates, _, _) = outcome { return [accepted, duplicates] }
    return []
}

/// Submits an ingest and waits for its outcome.
func ingest(_ broker: MessageBroker, _ transactions: [Transaction]) async -> IngestOutcome {
    await withCheckedContinuation { continuation in
        broker.ingest(transactions) { continuation.resume(returning: $0) }
    }
}

@Suite("Broker: ingest, sequence numbers, idempotency, fan-out, resume")
struct BrokerTests {
    @Test func acceptsAndSequencesTransactionsThenAlertsThenRankings() async {
        let journal = RecordingJournal()
        let broker = makeBroker(journal)
        let sink = RecordingSink()
        await broker.addSink(sink)
        let outcome = await ingest(broker, [transaction("t1", "i1", "s1", cents: 20_000), transaction("t2", "i2", "s1", cents: 100)])
        #expect(outcome == .accepted(accepted: 2, duplicates: 0, firstSeq: 1, lastSeq: 3))
        let topics = sink.events.map(\.topic)
        #expect(topics == ["transactions", "alerts", "transactions", "rankings"])
        #expect(sink.events.map(\.seq) == [1, 2, 3, 4])
        #expect(journal.entries.withLock { $0.count } == 1)
    }

    @Test func aRankingsEventOnlyWhenTheTopListChangedAndItCarriesTheNewList() async {
        let journal = RecordingJournal()
        var configuration = BrokerConfiguration()
        configuration.idempotencyWindow = 100
        let broker = MessageBroker(
            monitor: TransactionMonitor(configuration: MonitorConfiguration(amountThreshold: Money(cents: 1_000_000), topK: 1)),
            epoch: "e1", configuration: configuration
        ) { try journal.append($0) }
        let sink = RecordingSink()
        await broker.addSink(sink)
        _ = await ingest(broker, [transaction("t1", "big", "s1", cents: 5_000)])
        // A smaller investor outside the top 1: no rankings event.
        _ = await ingest(broker, [transaction("t2", "small", "s1", cents: 100)])
        // Two transactions that overtake the leader: one rankings event for the request, last.
        _ = await ingest(broker, [transaction("t3", "small", "s2", cents: 100), transaction("t4", "small", "s3", cents: 100)])
        let topics = sink.events.map(\.topic)
        #expect(topics == ["transactions", "rankings", "transactions", "transactions", "transactions", "rankings"])
        guard case .rankings(let top) = sink.events.last?.body else {
            Issue.record("expected a rankings event last, got \(String(describing: sink.events.last))")
            return
        }
        #expect(top.map(\.investorId) == ["small"])
        #expect(top.first?.syndicateCount == 3)
    }

    @Test func resentIdIsADuplicateAndDifferentContentIsAConflict() async {
        let journal = RecordingJournal()
        let broker = makeBroker(journal)
        _ = await ingest(broker, [transaction("t1", "i1", "s1", cents: 100)])
        let again = await ingest(broker, [transaction("t1", "i1", "s1", cents: 100, at: 5_000)])
        #expect(again == .accepted(accepted: 0, duplicates: 1, firstSeq: nil, lastSeq: nil))
        let conflict = await ingest(broker, [transaction("t2", "i1", "s1", cents: 1), transaction("t1", "i9", "s1", cents: 100)])
        #expect(
            conflict == .idConflict([.init(index: 1, field: "id", reason: "id \"t1\" was already used with different content")]))
        // Nothing of the conflicting batch was stored: t2 is still new.
        let retry = await ingest(broker, [transaction("t2", "i1", "s1", cents: 1)])
        #expect(retry == .accepted(accepted: 1, duplicates: 0, firstSeq: 3, lastSeq: 3))
        #expect(journal.entries.withLock { $0.count } == 2)
    }

    @Test func idempotencyWindowForgetsTheOldestIdsOnly() async {
        let broker = makeBroker(RecordingJournal(), idempotencyWindow: 2)
        for id in ["a", "b", "c"] {
            _ = await ingest(broker, [transaction(id, "i1", "s1", cents: 100)])
        }
        // "a" fell out of the window of 2; "c" is still remembered.
        #expect(counts(await ingest(broker, [transaction("c", "i1", "s1", cents: 100)])) == [0, 1])
        #expect(counts(await ingest(broker, [transaction("a", "i1", "s1", cents: 100)])) == [1, 0])
    }

    /// One request may claim more new ids than the window holds: the table grows to fit them (a
    /// full table's probe would never end), and afterwards only the last two are remembered.
    @Test func aRequestWithMoreIdsThanTheWindowIsAccepted() async {
        let broker = makeBroker(RecordingJournal(), idempotencyWindow: 2)
        let batch = (0..<100).map { transaction("big-\($0)", "i1", "s1", cents: 1) }
        #expect(counts(await ingest(broker, batch)) == [100, 0])
        #expect(counts(await ingest(broker, [transaction("big-99", "i1", "s1", cents: 1)])) == [0, 1])
        #expect(counts(await ingest(broker, [transaction("big-0", "i1", "s1", cents: 1)])) == [1, 0])
    }

    @Test func aRefusedRequestDoesNotClaimItsIds() async {
        let broker = makeBroker(RecordingJournal())
        _ = await ingest(broker, [transaction("x", "i1", "s1", cents: 100)])
        // "y" is new, "x" conflicts: the whole request is refused, so "y" stays unknown.
        let refused = await ingest(broker, [transaction("y", "i2", "s1", cents: 5), transaction("x", "i9", "s1", cents: 100)])
        guard case .idConflict = refused else {
            Issue.record("expected an id conflict, got \(refused)")
            return
        }
        #expect(counts(await ingest(broker, [transaction("y", "i3", "s1", cents: 7)])) == [1, 0])
        // The same id twice in one request: the second is a duplicate of the first.
        #expect(counts(await ingest(broker, [transaction("z", "i1", "s1", cents: 1), transaction("z", "i1", "s1", cents: 1)])) == [1, 1])
    }

    @Test func idsAreTheirBytesForIdempotencyAndTotals() async {
        let broker = makeBroker(RecordingJournal())
        let composed = "\u{E9}"  // NFC é
        let decomposed = "e\u{301}"  // NFD é: canonically equivalent, other bytes
        // Two ids, two investors: neither a duplicate nor a conflict, and both applied.
        let outcome = await ingest(
            broker,
            [transaction("t" + composed, composed, "s1", cents: 100), transaction("t" + decomposed, decomposed, "s1", cents: 200)])
        #expect(counts(outcome) == [2, 0])
        #expect(await broker.state.counts.investors == 2)
        #expect(await broker.state.investor(composed)?.totalInvested == MoneyTotal(cents: 100))
        #expect(await broker.state.investor(decomposed)?.totalInvested == MoneyTotal(cents: 200))
        // Each id is remembered by its own bytes: a resend of either is a duplicate.
        #expect(counts(await ingest(broker, [transaction("t" + decomposed, decomposed, "s1", cents: 200)])) == [0, 1])
        #expect(counts(await ingest(broker, [transaction("t" + composed, composed, "s1", cents: 100)])) == [0, 1])
    }

    @Test func totalsPastInt64MaxAreAccepted() async {
        let journal = RecordingJournal()
        let broker = makeBroker(journal, threshold: Int64.max)
        _ = await ingest(broker, [transaction(nil, "i1", "s1", cents: Int64.max - 10)])
        let outcome = await ingest(broker, [transaction(nil, "i2", "s2", cents: 5), transaction(nil, "i1", "s1", cents: 11)])
        #expect(counts(outcome) == [2, 0])
        #expect(journal.entries.withLock { $0.count } == 2)
        #expect(await broker.state.investor("i1")?.totalInvested.description == "92233720368547758.08")
    }

    @Test func nonPositiveAmountIsRejectedAtomically() async {
        let journal = RecordingJournal()
        let broker = makeBroker(journal, threshold: Int64.max)
        _ = await ingest(broker, [transaction(nil, "i1", "s1", cents: 10)])
        let outcome = await ingest(broker, [transaction(nil, "i2", "s2", cents: 5), transaction(nil, "i1", "s1", cents: 0)])
        guard case .invalid = outcome else {
            Issue.record("expected invalid, got \(outcome)")
            return
        }
        #expect(await broker.currentSeq == 2)
        #expect(journal.entries.withLock { $0.count } == 1)
    }

    @Test func refusalDetailsNameTheRequestsIndexPastSkippedDuplicates() async {
        let journal = RecordingJournal()
        let broker = makeBroker(journal, threshold: Int64.max)
        _ = await ingest(broker, [transaction("d", "i1", "s1", cents: Int64.max - 10)])
        // Index 0 and 2 are duplicates (skipped), 1 is fresh, 3 has a non-positive amount (only a
        // transaction built in code can; the decoder refuses it).
        let outcome = await ingest(
            broker,
            [
                transaction("d", "i1", "s1", cents: Int64.max - 10), transaction("f", "i2", "s2", cents: 5),
                transaction("d", "i1", "s1", cents: Int64.max - 10), transaction("o", "i1", "s3", cents: 0),
            ])
        guard case .invalid(let details) = outcome else {
            Issue.record("expected invalid, got \(outcome)")
            return
        }
        #expect(details.map(\.index) == [3], "\(details)")
        // Only the fresh transactions of an accepted request with duplicates reach the journal.
        let mixed = await ingest(
            broker, [transaction("d", "i1", "s1", cents: Int64.max - 10), transaction("g", "i3", "s2", cents: 7)])
        #expect(counts(mixed) == [1, 1])
        let stored = journal.entries.withLock { entries -> [String?] in
            guard case .transactions(let last) = entries.last else { return [] }
            return last.map(\.id)
        }
        #expect(stored == ["g"])
    }

    @Test func journalFailureStopsIngestAndPublishesNothing() async {
        let journal = RecordingJournal()
        let broker = makeBroker(journal)
        let sink = RecordingSink()
        await broker.addSink(sink)
        journal.failing.store(true, ordering: .relaxed)
        let outcome = await ingest(broker, [transaction("t1", "i1", "s1", cents: 100)])
        guard case .unavailable = outcome else {
            Issue.record("expected 503, got \(outcome)")
            return
        }
        #expect(sink.events.isEmpty)
        journal.failing.store(false, ordering: .relaxed)
        let later = await ingest(broker, [transaction("t2", "i1", "s1", cents: 100)])
        guard case .unavailable = later else {
            Issue.record("a failed broker must stay stopped, got \(later)")
            return
        }
    }

    @Test func replayReproducesStateAndSequenceNumbers() async {
        let journal = RecordingJournal()
        let live = makeBroker(journal)
        for index in 0..<20 {
            _ = await ingest(
                live, [transaction("t\(index)", "i\(index % 4)", "s\(index % 3)", cents: Int64(index * 1_000 + 5), at: Int64(index))])
        }
        let published = await withCheckedContinuation { continuation in
            live.publish(topic: "orders", data: Array("{\"a\":1}".utf8)) { continuation.resume(returning: $0) }
        }
        #expect(published == .published(seq: await live.currentSeq))
        let replayed = makeBroker(RecordingJournal())
        for entry in journal.entries.withLock({ $0 }) { await replayed.replay(entry) }
        #expect(await replayed.currentSeq == live.currentSeq)
        #expect(await replayed.state.leaderboard == live.state.leaderboard)
        #expect(await replayed.state.recentAlerts(limit: 100) == live.state.recentAlerts(limit: 100))
        // Ids known before the restart are still duplicates after it.
        let duplicate = await ingest(replayed, [transaction("t3", "i3", "s0", cents: 3_005, at: 3)])
        #expect(duplicate == .accepted(accepted: 0, duplicates: 1, firstSeq: nil, lastSeq: nil))
    }

    @Test func groupsTheHistoryDropsAreHandedOverForReleaseWhenLarge() async {
        var configuration = BrokerConfiguration()
        configuration.historyCapacity = 300
        let journal = RecordingJournal()
        let broker = MessageBroker(
            monitor: TransactionMonitor(configuration: MonitorConfiguration()), epoch: "e1", configuration: configuration
        ) { try journal.append($0) }
        /// Sizes of the groups handed over for release, and the first sequence numbers.
        let disposed = Mutex<[Int]>([])
        let firstSeqs = Mutex<[UInt64]>([])
        await broker.releaseDroppedGroups { groups in
            disposed.withLock { $0 += groups.eventCounts }
            firstSeqs.withLock { $0.append(groups.firstSeq) }
        }
        func batch(_ first: Int, _ count: Int) -> [Transaction] {
            (first..<(first + count)).map { transaction("t\($0)", "i\($0 % 7)", "s1", cents: 100) }
        }
        // Small groups (single POSTs) are released on the broker's thread: none handed over.
        for number in 0..<400 {
            _ = await ingest(broker, batch(number, 1))
        }
        #expect(disposed.withLock { $0 }.isEmpty)
        // Groups of 256 events or more are handed over once the history drops them, whole.
        for number in 0..<3 {
            _ = await ingest(broker, batch(1_000 + number * 300, 300))
        }
        // (A group's events are its transactions plus any rankings event.)
        let counts = disposed.withLock { $0 }
        #expect(counts.count == 2, "the first two large groups, dropped by the second and the third")
        #expect(counts.allSatisfy { $0 >= 300 && $0 <= 301 }, "\(counts)")
        // Each hand-over names its first event, past the 400 single-transaction groups' events.
        #expect(firstSeqs.withLock { $0 }.count == 2)
        #expect(firstSeqs.withLock { $0 }.allSatisfy { $0 > 400 })
    }

    @Test func subscriptionResumesFromHistoryOrFallsBackToSnapshot() async {
        let broker = makeBroker(RecordingJournal())
        for index in 0..<5 {
            _ = await ingest(broker, [transaction(nil, "i\(index)", "s1", cents: 20_000, at: Int64(index))])
        }
        func start(since: UInt64?, epoch: String?) async -> SubscriptionStart {
            await withCheckedContinuation { continuation in
                broker.subscribe(SubscriptionRequest(topics: ["alerts"], since: since, epoch: epoch) { continuation.resume(returning: $0) })
            }
        }
        let resumed = await start(since: 4, epoch: "e1")
        let texts = resumed.messages.map { String(decoding: $0, as: UTF8.self) }
        #expect(texts.first?.contains("\"type\":\"hello\"") == true)
        #expect(texts.dropFirst().allSatisfy { $0.contains("\"type\":\"alert\"") })
        #expect(texts.count > 1)
        let otherEpoch = await start(since: 4, epoch: "other")
        let fallback = String(decoding: otherEpoch.messages[1], as: UTF8.self)
        #expect(fallback.contains("\"type\":\"snapshot\""))
        #expect(fallback.contains("\"recovered\":false"))
        let fresh = await start(since: nil, epoch: nil)
        #expect(String(decoding: fresh.messages[1], as: UTF8.self).contains("\"type\":\"snapshot\""))
        #expect(!String(decoding: fresh.messages[1], as: UTF8.self).contains("recovered"))
    }

    @Test func aReplayLargerThanTheReplayLimitGetsASnapshotInstead() async {
        var configuration = BrokerConfiguration()
        configuration.replayByteLimit = 10_000
        let broker = MessageBroker(monitor: TransactionMonitor(), epoch: "e1", configuration: configuration) { _ in }
        let data = Array("\"\(String(repeating: "x", count: 2_000))\"".utf8)
        for _ in 0..<8 {
            await withCheckedContinuation { continuation in
                broker.publish(topic: "orders", data: data) { _ in continuation.resume() }
            }
        }
        func start(since: UInt64) async -> [String] {
            await withCheckedContinuation { continuation in
                broker.subscribe(
                    SubscriptionRequest(topics: ["orders"], since: since, epoch: "e1") {
                        continuation.resume(returning: $0.messages.map { String(decoding: $0, as: UTF8.self) })
                    })
            }
        }
        // Four messages (~8 KB of JSON) fit in 10,000 bytes and are replayed.
        let small = await start(since: 4)
        #expect(small.count == 5 && small.dropFirst().allSatisfy { $0.contains("\"type\":\"message\"") })
        // Eight (~16 KB) do not: the client is told to start over instead.
        let large = await start(since: 0)
        #expect(large.count == 2)
        #expect(large[1].contains("\"type\":\"snapshot\"") && large[1].contains("\"recovered\":false"))
    }
}
