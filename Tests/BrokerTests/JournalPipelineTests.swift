import Broker
import Dispatch
import Glibc
import Monitor
import Synchronization
import Testing

/// A journal whose first append blocks until `open()`, recording every append's entries.
final class GatedJournal: Sendable {
    let appends = Mutex<[[JournalEntry]]>([])
    let failing = Atomic<Bool>(false)
    /// Appends attempted, failed ones included.
    let calls = Atomic<Int>(0)
    /// The name of the thread each append ran on.
    let threads = Mutex<[String]>([])
    private let entered = Atomic<Bool>(false)
    private let gate = DispatchSemaphore(value: 0)
    private let first = Atomic<Bool>(true)
    struct Failure: Error {}

    func append(_ entries: [JournalEntry]) throws {
        calls.add(1, ordering: .relaxed)
        let thread = currentThreadName()
        threads.withLock { $0.append(thread) }
        if first.exchange(false, ordering: .relaxed) {
            entered.store(true, ordering: .releasing)
            gate.wait()  // blocks the broker's or the journal's thread, not a test's
        }
        if failing.load(ordering: .relaxed) { throw Failure() }
        appends.withLock { $0.append(entries) }
    }

    /// Waits until the first append is in progress (blocked at the gate).
    /// Waits until the first append is in progress (blocked at the gate); polls, so the test's
    /// cooperative thread is not blocked.
    func waitUntilWriting() async {
        #expect(await eventually { entered.load(ordering: .acquiring) })
    }
    func open() { gate.signal() }
    var appendCount: Int { appends.withLock { $0.count } }
}

/// The calling thread's name, from `/proc/thread-self/comm`.
func currentThreadName() -> String {
    guard let file = fopen("/proc/thread-self/comm", "r") else { return "" }
    defer { fclose(file) }
    var buffer = [CChar](repeating: 0, count: 32)
    guard fgets(&buffer, 32, file) != nil else { return "" }
    return String(decoding: buffer.prefix { $0 != 0 && $0 != 10 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Waits (bounded, 10 s) until `condition` holds.
func eventually(_ condition: () -> Bool) async -> Bool {
    for _ in 0..<5_000 {
        if condition() { return true }
        try? await Task.sleep(nanoseconds: 2_000_000)
    }
    return condition()
}

/// `size` transactions of request `id` (ids `id-0`, `id-1`, …, investor `i-id`).
func request(_ id: String, size: Int, cents: Int64 = 100) -> [Transaction] {
    (0..<size).map { transaction("\(id)-\($0)", "i-\(id)", "s1", cents: cents) }
}

/// Large groups are written on the journal's thread while the broker decides the next ones, small
/// ones on the broker's thread (`MessageBroker.inlineAppendLimit`); either way groups complete in order,
/// reads wait for what is being written, and a failed append fails everything after it. Each
/// test runs with requests of 1 transaction (appended inline) and of 300 (handed over).
@Suite("Broker journal pipeline: ordering, reads that wait, fail-stop")
struct JournalPipelineTests {
    /// A broker writing to `journal`, with a sink recording what it publishes.
    private func makeBroker(_ journal: GatedJournal) async -> (MessageBroker, RecordingSink) {
        let broker = MessageBroker(
            monitor: TransactionMonitor(
                configuration: MonitorConfiguration(
                    amountThreshold: Money(cents: 10_000), spikeWindowSeconds: 60, spikeThreshold: 1_000_000)), epoch: "e1"
        ) { try journal.append($0) }
        let sink = RecordingSink()
        await broker.addSink(sink)
        return (broker, sink)
    }

    @Test(arguments: [1, 300])
    func groupsQueuedDuringAWriteAreStoredTogetherAndAnsweredInOrder(size: Int) async {
        let journal = GatedJournal()
        let (broker, sink) = await makeBroker(journal)
        let order = Mutex<[String]>([])
        for id in ["a", "b", "c"] {
            broker.ingest(request(id, size: size)) { _ in order.withLock { $0.append(id) } }
            if id == "a" { await journal.waitUntilWriting() }
        }
        // "b" and "c" were decided while "a" was being written: nothing of them is published yet.
        try? await Task.sleep(nanoseconds: 50_000_000)
        #expect(order.withLock { $0 }.isEmpty)
        #expect(sink.events.isEmpty)
        journal.open()
        #expect(await eventually { order.withLock { $0.count } == 3 })
        #expect(order.withLock { $0 } == ["a", "b", "c"])
        #expect(journal.appendCount == 2, "a alone, then b and c in one append")
        #expect(journal.threads.withLock { $0 } == Array(repeating: size == 1 ? "broker" : "journal", count: 2))
        #expect(journal.appends.withLock { $0.last?.count } == 2)
        let events = sink.events
        #expect(events.map(\.seq) == Array(1...UInt64(events.count)), "published in sequence order")
        let published = events.compactMap { $0.transaction?.id }
        #expect(published == ["a", "b", "c"].flatMap { id in (0..<size).map { "\(id)-\($0)" } })
    }

    @Test(arguments: [1, 300])
    func aSubscriptionWaitsForTheGroupBeingWrittenAndStartsAfterIt(size: Int) async {
        let journal = GatedJournal()
        let (broker, sink) = await makeBroker(journal)
        let accepted = Atomic<Bool>(false)
        broker.ingest(request("a", size: size, cents: 20_000)) { _ in accepted.store(true, ordering: .releasing) }
        await journal.waitUntilWriting()
        let start = Mutex<(seq: UInt64, eventsBefore: Int)?>(nil)
        broker.subscribe(
            SubscriptionRequest(topics: [Topic.alerts], since: nil, epoch: nil) { subscription in
                start.withLock { $0 = (subscription.seq, sink.events.count) }
            })
        try? await Task.sleep(nanoseconds: 50_000_000)
        #expect(start.withLock { $0 } == nil, "the snapshot must not show state that is not yet durable")
        journal.open()
        #expect(await eventually { accepted.load(ordering: .acquiring) })
        #expect(await eventually { start.withLock { $0 } != nil })
        // The snapshot covers the transactions, their alerts and the new rankings, all published
        // before it.
        let covered = UInt64(2 * size + 1)
        #expect(start.withLock { $0?.seq } == covered)
        #expect(start.withLock { $0?.eventsBefore } == Int(covered))
    }

    @Test(arguments: [1, 300])
    func aFailedAppendFailsTheGroupsQueuedBehindItWithoutWritingThem(size: Int) async {
        let journal = GatedJournal()
        let (broker, sink) = await makeBroker(journal)
        let outcomes = Mutex<[String: IngestOutcome]>([:])
        for id in ["a", "b"] {
            broker.ingest(request(id, size: size)) { outcome in outcomes.withLock { $0[id] = outcome } }
            if id == "a" { await journal.waitUntilWriting() }
        }
        try? await Task.sleep(nanoseconds: 50_000_000)
        journal.failing.store(true, ordering: .relaxed)
        journal.open()
        #expect(await eventually { outcomes.withLock { $0.count } == 2 })
        for id in ["a", "b"] {
            guard case .unavailable = outcomes.withLock({ $0[id] }) else {
                Issue.record("\(id): expected 503, got \(String(describing: outcomes.withLock { $0[id] }))")
                continue
            }
        }
        #expect(journal.calls.load(ordering: .relaxed) == 1, "b was never written")
        #expect(sink.events.isEmpty)
        #expect(await broker.currentSeq == 0, "the sequence number goes back to the last published")
        journal.failing.store(false, ordering: .relaxed)
        guard case .unavailable = await ingest(broker, [transaction("c", "i1", "s1", cents: 100)]) else {
            Issue.record("a failed broker must stay stopped")
            return
        }
        #expect(journal.calls.load(ordering: .relaxed) == 1)
    }
}
