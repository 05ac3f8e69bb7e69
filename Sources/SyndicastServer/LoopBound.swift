import Glibc
import Reactor

/// A loop-confined value carried through `@Sendable` closures and shared tables: reading
/// ``value`` off its loop's thread is a bug, caught in debug builds (as swift-nio's
/// `NIOLoopBound` does with `preconditionInEventLoop`). Release builds check nothing and pay
/// nothing: the value is read on every response and every fan-out batch.
struct LoopBound<Value>: @unchecked Sendable {
    /// The loop whose thread alone may read ``value``.
    let loop: EventLoop
    private let storage: Value

    /// Binds `value` to `loop`; may be called off the loop (before it runs, or to hand the value
    /// to a task that will run on it).
    init(_ value: Value, on loop: EventLoop) {
        self.loop = loop
        self.storage = value
    }

    /// The value; only on ``loop``'s thread.
    var value: Value {
        assert(CurrentLoop.isCurrent(loop), "a LoopBound value was read off its event loop (loop \(loop.index))")
        return storage
    }
}

/// Which event loop the current thread runs, for the debug checks of ``LoopBound``: each loop's
/// thread records itself before it touches any loop-bound value (``SyndicastServer/start`` posts
/// that as every loop's first task, and the accept path repeats it).
enum CurrentLoop {
    #if DEBUG
        private static let key: pthread_key_t = {
            var key = pthread_key_t()
            pthread_key_create(&key, nil)
            return key
        }()
    #endif

    /// Records that this thread runs `loop` (debug builds only).
    static func enter(_ loop: EventLoop) {
        #if DEBUG
            pthread_setspecific(key, Unmanaged.passUnretained(loop).toOpaque())
        #endif
    }

    /// Whether this thread runs `loop` (always true in release builds, which do not record it).
    static func isCurrent(_ loop: EventLoop) -> Bool {
        #if DEBUG
            pthread_getspecific(key) == Unmanaged.passUnretained(loop).toOpaque()
        #else
            true
        #endif
    }
}
