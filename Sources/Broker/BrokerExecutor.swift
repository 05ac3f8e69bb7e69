import Glibc
import Synchronization

/// A serial executor backed by one dedicated thread: the broker actor's jobs never share a
/// thread with the event loops or with Swift's cooperative pool, so a journal fsync inside the
/// actor blocks nothing but the broker (and naturally groups the requests that arrive meanwhile).
public final class BrokerExecutor: SerialExecutor, @unchecked Sendable {
    /// Work for the thread: Swift jobs (actor calls) and plain closures (`execute`).
    enum Work: @unchecked Sendable {
        case job(UnownedJob)
        case closure(@Sendable () -> Void)
    }

    private let queue = Mutex<[Work]>([])
    private var condition = pthread_cond_t()
    private var mutex = pthread_mutex_t()
    private let threadID = Atomic<UInt>(0)

    /// Starts the executor's thread.
    public init(name: String = "broker") {
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&condition, nil)
        startDedicatedThread(name: name) { [self] in run() }
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

    private func push(_ work: Work) {
        let wasEmpty = queue.withLock { jobs in
            jobs.append(work)
            return jobs.count == 1
        }
        if wasEmpty {
            pthread_mutex_lock(&mutex)
            pthread_cond_signal(&condition)
            pthread_mutex_unlock(&mutex)
        }
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
            let jobs = queue.withLock { jobs in
                let taken = jobs
                jobs.removeAll(keepingCapacity: true)
                return taken
            }
            if jobs.isEmpty {
                pthread_mutex_lock(&mutex)
                while queue.withLock({ $0.isEmpty }) {
                    pthread_cond_wait(&condition, &mutex)
                }
                pthread_mutex_unlock(&mutex)
                continue
            }
            for work in jobs {
                switch work {
                case .job(let job): job.runSynchronously(on: asUnownedSerialExecutor())
                case .closure(let body): body()
                }
            }
        }
    }
}
