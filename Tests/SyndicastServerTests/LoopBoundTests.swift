import Glibc
import Reactor
import Synchronization
import Testing

@testable import SyndicastServer

/// ``LoopBound`` checks its loop in debug builds: the check must tell the loop's own thread from
/// any other.
@Suite("LoopBound: per-loop state knows its loop")
struct LoopBoundTests {
    @Test("a loop's thread is its current loop; the test's thread and another loop's are not")
    func currentLoop() throws {
        let group = try EventLoopGroup(threads: 2, connectionLimit: 16)
        group.start()
        defer { group.stopAndWait() }
        let first = group.loops[0]
        let second = group.loops[1]
        let seen = Mutex<[Bool]>([])
        let done = OneShotSignal()
        first.execute {
            CurrentLoop.enter(first)
            let bound = LoopBound(7, on: first)
            seen.withLock { $0 = [CurrentLoop.isCurrent(first), CurrentLoop.isCurrent(second), bound.value == 7] }
            done.signal()
        }
        done.wait()
        #expect(seen.withLock { $0 } == [true, false, true])
        #if DEBUG
            #expect(!CurrentLoop.isCurrent(first), "the test's thread runs no loop")
        #endif
    }
}

/// A one-shot signal between threads.
final class OneShotSignal: Sendable {
    private let flag = Atomic<Bool>(false)
    func signal() { flag.store(true, ordering: .releasing) }
    func wait() {
        while !flag.load(ordering: .acquiring) { usleep(1_000) }
    }
}
