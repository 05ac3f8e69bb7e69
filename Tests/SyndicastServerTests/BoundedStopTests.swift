import Basics
import Glibc
import Journal
import Monitor
import Testing

@testable import SyndicastServer

/// `SyndicastServer.stopGracefully(timeoutSeconds:)`: the whole stop is bounded, whatever hangs.
@Suite("SyndicastServer: bounded stop", .serialized)
struct BoundedStopTests {
    /// A journal whose appends block until ``release()``, as a commit stuck in a hung fsync does.
    final class BlockingJournal: JournalStore, @unchecked Sendable {
        let epoch = "0123456789abcdef"
        private(set) var statistics = JournalStatistics()
        /// Whether an append is waiting; whether appends may return.
        let state = ConditionLock((entered: false, released: false))

        func append(_ entries: [JournalEntry]) throws(JournalError) {
            state.withLock { $0.entered = true }
            state.broadcast()
            state.withLock(when: { $0.released }) { _ in }
        }

        func replay(_ body: (JournalEntry) throws -> Void) throws {}
        func close() {}

        /// Lets every blocked and later append return.
        func release() {
            state.withLock { $0.released = true }
            state.broadcast()
        }

        /// Waits (up to 5 s) until an append is blocked; returns whether one is.
        func waitUntilEntered() -> Bool {
            state.withLock(when: { $0.entered }, timeoutMilliseconds: 5_000) { $0.entered }
        }
    }

    static func configuration() -> ServerConfiguration {
        var configuration = ServerConfiguration()
        configuration.port = 0
        configuration.threads = 1
        configuration.dataDirectory = nil
        configuration.shutdownGraceSeconds = 0
        return configuration
    }

    static func milliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1_000 + Int64(now.tv_nsec) / 1_000_000
    }

    @Test("a commit that never returns ends the stop at the timeout, naming the commits")
    func hungCommit() throws {
        let journal = BlockingJournal()
        let server = try SyndicastServer(configuration: Self.configuration(), journal: journal)
        try server.start()
        let transaction = Transaction(
            id: "t-1", investorId: "i1", syndicateId: "s1", amount: Money(cents: 100), timestamp: 1_795_773_600_000)
        server.context.broker.ingest([transaction]) { _ in }
        #expect(journal.waitUntilEntered(), "the commit is in progress")

        let started = Self.milliseconds()
        let outcome = server.stopGracefully(timeoutSeconds: 1)
        let elapsed = Self.milliseconds() - started
        #expect(outcome == .timedOut(.commits))
        #expect(elapsed >= 900 && elapsed < 2_500, "returned at the timeout (\(elapsed) ms)")
        #expect(StopStage.commits.description.contains("journal commits"))

        // The stop goes on once the commit returns, and ends every thread it started.
        journal.release()
        var stopThreadLeft = true
        for _ in 0..<500 where stopThreadLeft {
            stopThreadLeft = NamedThread.liveThreadNames().contains("stop")
            if stopThreadLeft { usleep(10_000) }
        }
        #expect(!stopThreadLeft, "the stop thread ended after the commit returned")
    }

    @Test("a stop with nothing hanging finishes well within the timeout")
    func ordinaryStop() throws {
        let server = try SyndicastServer(configuration: Self.configuration())
        try server.start()
        let started = Self.milliseconds()
        #expect(server.stopGracefully(timeoutSeconds: 5) == .stopped)
        #expect(Self.milliseconds() - started < 2_000)
        #expect(!NamedThread.liveThreadNames().contains("stop"))
    }
}
