import Glibc

/// Writes commit groups to the journal on a thread of its own, in order, so that the broker
/// decides and applies group N+1 while group N is being appended and fsynced.
///
/// Before it, the broker thread spent ~8% of its time in the journal's append and ~15% waiting
/// for fsync under NDJSON ingest, and nothing was decided meanwhile. Groups queued while a write
/// is in progress are appended together by the next write (one transaction, one fsync).
///
/// Ordering and failure: groups complete in submission order. Once an append fails, every group
/// queued after it fails too without being written (the journal must not get a hole), and the
/// pipeline stays failed: the broker is fail-stop (see `Broker.commitGroup`).
///
/// Completions are collected here and announced with `notify` (the broker queues itself a command
/// that calls `takeCompleted`); `waitUntilIdle` lets the broker block until everything submitted
/// is written, before it reads state that must not run ahead of what is published.
final class JournalPipeline: @unchecked Sendable {
    /// The outcome of one submitted group.
    struct Completion {
        let ticket: UInt64
        /// Why the group was not stored; nil once it is durable.
        let failure: String?
    }

    private let persist: @Sendable ([LogEntry]) throws -> Void
    private let name: String
    /// Called on the pipeline's thread after completions were added.
    var notify: @Sendable () -> Void = {}

    // Everything below is guarded by `mutex`.
    private var mutex = pthread_mutex_t()
    private var workAvailable = pthread_cond_t()
    private var becameIdle = pthread_cond_t()
    private var queue: [(ticket: UInt64, entries: [LogEntry])] = []
    private var completed: [Completion] = []
    private var writing = false
    private var failure: String?
    private var started = false

    init(name: String = "journal", persist: @escaping @Sendable ([LogEntry]) throws -> Void) {
        self.name = name
        self.persist = persist
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&workAvailable, nil)
        pthread_cond_init(&becameIdle, nil)
    }

    /// Queues one group's entries (possibly none: it then completes in order without a write).
    func submit(ticket: UInt64, entries: [LogEntry]) {
        pthread_mutex_lock(&mutex)
        if !started {
            started = true
            startDedicatedThread(name: name) { [self] in run() }
        }
        queue.append((ticket, entries))
        pthread_cond_signal(&workAvailable)
        pthread_mutex_unlock(&mutex)
    }

    /// The completions not taken yet, in submission order.
    func takeCompleted() -> [Completion] {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        let taken = completed
        completed = []
        return taken
    }

    /// Blocks until every submitted group has completed.
    func waitUntilIdle() {
        pthread_mutex_lock(&mutex)
        while writing || !queue.isEmpty {
            pthread_cond_wait(&becameIdle, &mutex)
        }
        pthread_mutex_unlock(&mutex)
    }

    private func run() {
        pthread_mutex_lock(&mutex)
        while true {
            while queue.isEmpty {
                pthread_cond_wait(&workAvailable, &mutex)
            }
            let groups = queue
            queue = []
            writing = true
            var outcome = failure
            pthread_mutex_unlock(&mutex)

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

            pthread_mutex_lock(&mutex)
            if failure == nil { failure = outcome }
            completed += groups.map { Completion(ticket: $0.ticket, failure: outcome) }
            writing = false
            if queue.isEmpty { pthread_cond_broadcast(&becameIdle) }
            pthread_mutex_unlock(&mutex)
            notify()
            pthread_mutex_lock(&mutex)
        }
    }
}
