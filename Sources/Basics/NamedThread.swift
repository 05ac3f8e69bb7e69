import Glibc
import Synchronization

/// A POSIX thread with a name, started at creation and joined once by its owner.
///
/// The broker's executor, the journal pipeline and every event loop each run on one: work that
/// blocks (an fsync, `epoll_wait`) stays off Swift's cooperative pool, and the name shows in
/// `top -H`, `perf` and `/proc/<pid>/task/*/comm`. The owner stops the thread's loop its own way
/// (a flag, a wake-up) and then calls `join()`, so that no thread outlives the object that
/// started it.
public final class NamedThread: Sendable {
    /// The name the thread was given (at most 15 bytes are kept by the kernel).
    public let name: String
    private let handle: pthread_t
    /// Set by the first `join()`: joining a thread twice is undefined behaviour.
    private let joined = Atomic<Bool>(false)

    /// Starts `body` on a new thread named `name`, returning once the thread carries the name;
    /// throws the `pthread_create` error code (EAGAIN when the process or the system is out of
    /// threads).
    public init(name: String, _ body: @escaping @Sendable () -> Void) throws(ThreadError) {
        let shortName = String(decoding: name.utf8.prefix(15), as: UTF8.self)
        let named = ConditionLock(false)
        let start = Unmanaged.passRetained(
            StartBox {
                Self.setCurrentName(shortName)
                named.withLock { $0 = true }
                named.signal()
                body()
            }
        ).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(
            &thread, nil,
            { argument in
                guard let argument else { return nil }
                Unmanaged<StartBox>.fromOpaque(argument).takeRetainedValue().body()
                return nil
            }, start)
        guard result == 0 else {
            Unmanaged<StartBox>.fromOpaque(start).release()
            throw ThreadError(operation: "pthread_create", code: result)
        }
        self.name = name
        self.handle = thread
        // Whoever lists the threads next (a test, `top -H`) sees the name.
        named.withLock(when: { $0 }) { _ in }
    }

    /// Whether the calling thread is this one.
    public var isCurrent: Bool { pthread_equal(pthread_self(), handle) != 0 }

    /// Waits until the thread's body has returned. Later calls return at once. Must not be
    /// called from the thread itself (it would wait for itself forever).
    public func join() {
        precondition(!isCurrent, "NamedThread \(name): join() called on the thread itself")
        guard !joined.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let result = pthread_join(handle, nil)
        precondition(result == 0, "NamedThread \(name): pthread_join failed with \(result)")
    }

    deinit {
        // Never joined: let the system reclaim the thread when it ends.
        if !joined.load(ordering: .acquiring) { pthread_detach(handle) }
    }

    /// The names of the process's threads alive now (from `/proc/self/task/*/comm`), for tests
    /// and diagnostics that check no thread outlived its owner.
    public static func liveThreadNames() -> [String] {
        guard let directory = opendir("/proc/self/task") else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let task = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard task.first?.isNumber == true, let file = fopen("/proc/self/task/\(task)/comm", "r") else { continue }
            defer { fclose(file) }
            var buffer = [CChar](repeating: 0, count: 32)
            guard fgets(&buffer, 32, file) != nil else { continue }
            names.append(String(decoding: buffer.prefix { $0 != 0 && $0 != 10 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return names
    }

    /// Names the calling thread through `/proc/thread-self/comm` (what `pthread_setname_np`
    /// does for another thread; Swift's Glibc module does not export it).
    static func setCurrentName(_ name: String) {
        let descriptor = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        _ = name.withCString { write(descriptor, $0, strlen($0)) }
    }

    /// Carries the body to the new thread (a retained reference through `void *`).
    private final class StartBox: Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
}

/// A POSIX threads call failed: which one and its error code.
public struct ThreadError: Error, CustomStringConvertible, Equatable {
    /// The function that failed, e.g. `pthread_create`.
    public let operation: String
    /// Its return value (an errno code such as `EAGAIN`).
    public let code: Int32

    public init(operation: String, code: Int32) {
        self.operation = operation
        self.code = code
    }

    public var description: String { "\(operation) failed: \(String(cString: strerror(code)))" }
}
