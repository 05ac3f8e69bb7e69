import Basics
import Monitor

/// Writes commit groups to the journal on a thread of its own, in order, so that the broker
/// decides and applies group N+1 while group N is being appended and fsynced.
///
/// Appending on the broker thread would cost it ~8% of its time in the journal's append and ~15%
/// waiting for fsync under NDJSON ingest (`loadtest/run.sh ingest`), deciding nothing meanwhile.
/// Groups queued while a write is in progress are appended together by the next write (one
/// transaction, one fsync).
///
/// Ordering and failure: groups complete in submission order. Once an append fails, every group
/// queued after it fails too without being written (the journal must not get a hole), and the
/// pipeline stays failed: the broker is fail-stop (see `MessageBroker.commitGroup`).
///
/// Completions are collected here and announced with `notify` (the broker queues itself a command
/// that calls `takeCompleted`); `waitUntilIdle` lets the broker block until everything submitted
/// is written, before it reads state that must not run ahead of what is published.
///
/// The thread starts with the first submitted group; `shutdown()` lets it write what is queued,
/// then stops and joins it.
final class JournalPipeline: @unchecked Sendable {
    /// The outcome of one submitted group.
    struct Completion {
        let ticket: UInt64
        /// Why the group was not stored; nil once it is durable.
        let failure: String?
    }

    /// Everything the broker's thread and the pipeline's thread share.
    struct State {
        var queue: [(ticket: UInt64, entries: [JournalEntry])] = []
        var completed: [Completion] = []
        var writing = false
        var failure: String?
        var thread: NamedThread?
        var stopping = false
    }

    private let persist: @Sendable ([JournalEntry]) throws -> Void
    private let name: String
    /// Called on the pipeline's thread after completions were added.
    var notify: @Sendable () -> Void = {}
    /// One condition for both waits: the pipeline's thread waits for work, and the broker's
    /// thread (the only submitter) for idleness, never both at once.
    private let state = ConditionLock(State())

    init(name: String = "journal", persist: @escaping @Sendable ([JournalEntry]) throws -> Void) {
        self.name = name
        self.persist = persist
    }

    /// Queues one group's entries (possibly none: it then completes in order without a write).
    /// If the thread cannot be started, the group fails like a failed append (fail-stop).
    func submit(ticket: UInt64, entries: [JournalEntry]) {
        let completedAtOnce = state.withLock { state -> Bool in
            if state.thread == nil && state.failure == nil && !state.stopping {
                do {
                    state.thread = try NamedThread(name: name) { [self] in run() }
                } catch {
                    state.failure = "cannot start the \(name) thread: \(error)"
                }
            }
            guard state.thread != nil, !state.stopping else {
                let failure = state.stopping ? "the journal is stopped" : state.failure
                state.completed.append(Completion(ticket: ticket, failure: failure))
                return true
            }
            state.queue.append((ticket, entries))
            return false
        }
        if completedAtOnce {
            notify()
        } else {
            state.broadcast()
        }
    }

    /// The completions not taken yet, in submission order.
    func takeCompleted() -> [Completion] {
        state.withLock { state in
            let taken = state.completed
            state.completed = []
            return taken
        }
    }

    /// Blocks until every submitted group has completed.
    func waitUntilIdle() {
        state.withLock(when: { !$0.writing && $0.queue.isEmpty }) { _ in }
    }

    /// Writes what is queued, then stops the thread and waits for it to end. Groups submitted
    /// later complete at once with a failure.
    func shutdown() {
        let thread = state.withLock { state -> NamedThread? in
            state.stopping = true
            return state.thread
        }
        state.broadcast()
        thread?.join()
    }

    private func run() {
        while true {
            let (groups, failure) = state.withLock(when: { !$0.queue.isEmpty || $0.stopping }) { state in
                let groups = state.queue
                state.queue = []
                state.writing = !groups.isEmpty
                return (groups, state.failure)
            }
            if groups.isEmpty { return }  // stopping, and everything queued is written
            var outcome = failure
            if outcome == nil {
                let entries = groups.count == 1 ? groups[0].entries : groups.flatMap(\.entries)
                if !entries.isEmpty {
                    do {
                        try persist(entries)
                    } catch {
                        outcome = "\(error)"
                    }
                }
            }
            state.withLock { state in
                if state.failure == nil { state.failure = outcome }
                state.completed += groups.map { Completion(ticket: $0.ticket, failure: outcome) }
                state.writing = false
            }
            state.broadcast()
            notify()
        }
    }
}
