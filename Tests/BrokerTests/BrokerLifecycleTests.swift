import Basics
import Monitor
import Synchronization
import Testing

@testable import Broker

/// The broker's two threads (its executor and its journal pipeline) start, work, and are gone
/// once `shutdown()` returns; names unique to each test identify them among the process's threads.
@Suite("Broker threads: start, work, shutdown, join")
struct BrokerLifecycleTests {
    @Test func theExecutorRunsWhatIsQueuedThenItsThreadIsJoined() {
        let executor = BrokerExecutor(name: "t-executor")
        #expect(NamedThread.liveThreadNames().contains("t-executor"))
        let ran = Mutex<[Int]>([])
        for index in 0..<100 {
            executor.execute { ran.withLock { $0.append(index) } }
        }
        executor.shutdown()
        #expect(ran.withLock { $0 } == Array(0..<100), "everything queued before shutdown ran, in order")
        #expect(!NamedThread.liveThreadNames().contains("t-executor"))
        executor.execute { ran.withLock { $0.append(-1) } }
        #expect(ran.withLock { $0.count } == 100, "work queued after shutdown is dropped")
    }

    @Test func thePipelineWritesWhatIsQueuedThenItsThreadIsJoined() {
        let written = Mutex<[[JournalEntry]]>([])
        let pipeline = JournalPipeline(name: "t-pipeline") { entries in written.withLock { $0.append(entries) } }
        #expect(!NamedThread.liveThreadNames().contains("t-pipeline"), "the thread starts with the first group")
        let entries = (0..<50).map { JournalEntry.message(topic: "t", data: [UInt8($0)]) }
        for (ticket, entry) in entries.enumerated() {
            pipeline.submit(ticket: UInt64(ticket), entries: [entry])
        }
        #expect(NamedThread.liveThreadNames().contains("t-pipeline"))
        pipeline.shutdown()
        #expect(!NamedThread.liveThreadNames().contains("t-pipeline"))
        #expect(written.withLock { $0.flatMap { $0 } } == entries)
        var completions = pipeline.takeCompleted()
        #expect(completions.map(\.ticket) == Array(0..<50))
        #expect(completions.allSatisfy { $0.failure == nil })
        // A group submitted after shutdown fails at once, without a thread or a write.
        pipeline.submit(ticket: 50, entries: [.message(topic: "t", data: [1])])
        completions = pipeline.takeCompleted()
        #expect(completions.map(\.ticket) == [50])
        #expect(completions.first?.failure != nil)
        #expect(written.withLock { $0.count } <= 50)
        #expect(!NamedThread.liveThreadNames().contains("t-pipeline"))
    }

    /// A broker that ingested groups large enough for the journal's thread answers them, then
    /// `shutdown()` leaves neither of its threads running.
    @Test func aBrokerShutdownJoinsBothThreads() async {
        let journal = RecordingJournal()
        let broker = MessageBroker(
            monitor: TransactionMonitor(), epoch: "e1", executor: BrokerExecutor(name: "t-broker-life")
        ) { try journal.append($0) }
        let answered = Atomic<Int>(0)
        for index in 0..<3 {
            let size = MessageBroker.inlineAppendLimit + 10
            let transactions = (0..<size).map { transaction("life-\(index)-\($0)", "i", "s", cents: 100) }
            broker.ingest(transactions) { _ in answered.add(1, ordering: .relaxed) }
        }
        #expect(await eventually { answered.load(ordering: .relaxed) == 3 })
        #expect(NamedThread.liveThreadNames().contains("t-broker-life"))
        broker.shutdown()
        #expect(!NamedThread.liveThreadNames().contains("t-broker-life"))
        #expect(journal.entries.withLock { $0.count } == 3)
        // The pipeline was stopped too: a later group completes at once as failed.
        broker.journal.submit(ticket: 99, entries: [])
        #expect(broker.journal.takeCompleted().first?.failure != nil)
    }
}
