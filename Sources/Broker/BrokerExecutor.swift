import Basics
import Glibc
import Synchronization

/// A serial executor backed by one dedicated thread: the broker actor's jobs never share a
/// thread with the event loops or with Swift's cooperative pool, so a journal fsync inside the
/// actor blocks nothing but the broker (and naturally groups the requests that arrive meanwhile).
///
/// `shutdown()` runs everything queued before it, then stops and joins the thread.
public final class BrokerExecutor: SerialExecutor, @unchecked Sendable {
    /// Work for the thread: Swift jobs (actor calls) and plain closures (`execute`).
    enum Work: @unchecked Sendable {
        case job(UnownedJob)
        case closure(@Sendable () -> Void)
    }

    /// The thread's queue, and whether `shutdown()` was called (work queued after it is dropped).
    struct Queue {
        var work: [Work] = []
        var stopping = false
    }

    private let queue = ConditionLock(Queue())
    private let threadID = Atomic<UInt>(0)
    /// Set once in `init`, read by `shutdown()`.
    private var thread: NamedThread?

    /// Starts the executor's thread. A process that cannot start one more thread cannot serve,
    /// so a failure stops it with the system's reason.
    public init(name: String = "broker") {
        do {
            thread = try NamedThread(name: name) { [self] in run() }
        } catch {
            preconditionFailure("cannot start the \(name) thread: \(error)")
        }
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        push(.job(UnownedJob(job)))
    }

    /// Runs `body` on the executor's thread, in order with its jobs. Inside, the actor this
    /// executor serves can be entered synchronously with `assumeIsolated` (see `checkIsolated`),
    /// which saves the hop through Swift's global executor that `Task { await … }` costs.
    public func execute(_ body: @escaping @Sendable () -> Void) {
        push(.closure(body))
    }

    /// Runs what is queued, then stops the thread and waits for it to end. Later work is
    /// dropped. Call from another thread (not from a job or closure running on this executor).
    public func shutdown() {
        queue.withLock { $0.stopping = true }
        queue.signal()
        thread?.join()
    }

    private func push(_ work: Work) {
        let wake = queue.withLock { queue -> Bool in
            guard !queue.stopping else { return false }
            queue.work.append(work)
            return queue.work.count == 1
        }
        // Only the executor's thread waits, and only on an empty queue.
        if wake { queue.signal() }
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// Lets `assumeIsolated` succeed for code already running on the broker thread.
    public func checkIsolated() {
        precondition(threadID.load(ordering: .relaxed) == UInt(pthread_self()), "not on the broker thread")
    }

    private func run() {
        threadID.store(UInt(pthread_self()), ordering: .relaxed)
        while true {
            let (work, stopping) = queue.withLock(when: { !$0.work.isEmpty || $0.stopping }) { queue in
                let taken = queue.work
                queue.work.removeAll(keepingCapacity: true)
                return (taken, queue.stopping)
            }
            for item in work {
                switch item {
                case .job(let job): job.runSynchronously(on: asUnownedSerialExecutor())
                case .closure(let body): body()
                }
            }
            // Once stopping, nothing more is queued: a pass that finds nothing ends the thread.
            if stopping && work.isEmpty { return }
        }
    }
}
