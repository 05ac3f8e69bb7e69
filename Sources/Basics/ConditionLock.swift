import Glibc

/// State guarded by a mutex, with one condition variable for threads that must wait for it.
///
/// `Synchronization.Mutex` guards state nobody waits on; this is for the other case (a worker
/// thread sleeping until work arrives, a caller blocking until the worker is idle). The mutex and
/// the condition live in memory allocated once for the object's lifetime: POSIX requires their
/// address to stay fixed, which a stored property of a Swift class does not promise. Every
/// `pthread_*` return code is checked; a failure is a broken invariant and stops the process.
///
/// The lock and wait paths are `@inlinable`, so that callers in other modules get them
/// specialised for their state (as `Synchronization.Mutex` is), not through generic metadata.
public final class ConditionLock<State>: @unchecked Sendable {
    @usableFromInline let mutex: UnsafeMutablePointer<pthread_mutex_t>
    @usableFromInline let condition: UnsafeMutablePointer<pthread_cond_t>
    /// Read and written only with `mutex` held.
    @usableFromInline var state: State

    /// Creates the lock around `initialState`.
    public init(_ initialState: State) {
        state = initialState
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        Self.check(pthread_mutex_init(mutex, nil), "pthread_mutex_init")
        var attributes = pthread_condattr_t()
        Self.check(pthread_condattr_init(&attributes), "pthread_condattr_init")
        // Deadlines (`timeoutMilliseconds`) are measured on the clock that does not jump.
        Self.check(pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC), "pthread_condattr_setclock")
        Self.check(pthread_cond_init(condition, &attributes), "pthread_cond_init")
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Runs `body` with the lock held.
    @inlinable
    public func withLock<Result>(_ body: (inout State) throws -> Result) rethrows -> Result {
        lock()
        defer { unlock() }
        return try body(&state)
    }

    /// Waits until `ready` holds for the state, then runs `body` with the lock still held.
    @inlinable
    public func withLock<Result>(
        when ready: (State) -> Bool, _ body: (inout State) throws -> Result
    ) rethrows -> Result {
        lock()
        defer { unlock() }
        while !ready(state) {
            Self.check(pthread_cond_wait(condition, mutex), "pthread_cond_wait")
        }
        return try body(&state)
    }

    /// Like `withLock(when:_:)`, but waits at most `milliseconds`; `body` then runs with the
    /// state as it is (check it again inside). Not `@inlinable`: for waits with a deadline,
    /// which are rare (a shutdown's grace period).
    public func withLock<Result>(
        when ready: (State) -> Bool, timeoutMilliseconds milliseconds: Int, _ body: (inout State) throws -> Result
    ) rethrows -> Result {
        var deadline = timespec()
        clock_gettime(CLOCK_MONOTONIC, &deadline)
        let nanoseconds = Int(deadline.tv_nsec) + (max(milliseconds, 0) % 1_000) * 1_000_000
        deadline.tv_sec += max(milliseconds, 0) / 1_000 + nanoseconds / 1_000_000_000
        deadline.tv_nsec = nanoseconds % 1_000_000_000
        lock()
        defer { unlock() }
        while !ready(state) {
            let result = pthread_cond_timedwait(condition, mutex, &deadline)
            if result == ETIMEDOUT { break }
            Self.check(result, "pthread_cond_timedwait")
        }
        return try body(&state)
    }

    /// Wakes one waiting thread (use when at most one thread can be waiting).
    @inlinable
    public func signal() {
        Self.check(pthread_cond_signal(condition), "pthread_cond_signal")
    }

    /// Wakes every waiting thread.
    @inlinable
    public func broadcast() {
        Self.check(pthread_cond_broadcast(condition), "pthread_cond_broadcast")
    }

    @inlinable
    func lock() {
        Self.check(pthread_mutex_lock(mutex), "pthread_mutex_lock")
    }

    @inlinable
    func unlock() {
        Self.check(pthread_mutex_unlock(mutex), "pthread_mutex_unlock")
    }

    @inlinable
    static func check(_ result: Int32, _ operation: StaticString) {
        precondition(result == 0, "\(operation) failed with \(result)")
    }
}
