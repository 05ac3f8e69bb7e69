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
        Self.check(pthread_cond_init(condition, nil), "pthread_cond_init")
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
