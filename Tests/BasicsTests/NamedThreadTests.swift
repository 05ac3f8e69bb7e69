import Basics
import Glibc
import Synchronization
import Testing

/// `NamedThread` starts, names and joins a thread; `ConditionLock` lets one wait for another.
@Suite("Named threads and condition locks: start, work, stop, join")
struct NamedThreadTests {
    @Test func aThreadRunsItsBodyUnderItsNameAndIsGoneOnceJoined() throws {
        let seenName = Mutex("")
        let ran = Atomic<Bool>(false)
        let thread = try NamedThread(name: "basics-named-0") {
            seenName.withLock { $0 = NamedThread.liveThreadNames().contains("basics-named-0") ? "seen" : "missing" }
            ran.store(true, ordering: .releasing)
        }
        #expect(!thread.isCurrent)
        thread.join()
        let didRun = ran.load(ordering: .acquiring)
        #expect(didRun)
        #expect(seenName.withLock { $0 } == "seen")
        #expect(!NamedThread.liveThreadNames().contains("basics-named-0"))
        thread.join()  // a second join returns at once
    }

    @Test func namesAreCutToFifteenBytes() throws {
        let seen = Mutex<[String]>([])
        let thread = try NamedThread(name: "basics-a-very-long-name") {
            seen.withLock { $0 = NamedThread.liveThreadNames() }
        }
        thread.join()
        #expect(seen.withLock { $0 }.contains("basics-a-very-l"))
        #expect(thread.name == "basics-a-very-long-name")
    }

    /// A worker that sleeps on a condition until work or a stop arrives: every item is handled,
    /// the stop ends it, and joining leaves no thread behind.
    @Test func aWorkerWaitsForWorkThenStopsAndIsJoined() throws {
        struct Queue {
            var items: [Int] = []
            var stopping = false
        }
        let queue = ConditionLock(Queue())
        let handled = Mutex<[Int]>([])
        let worker = try NamedThread(name: "basics-worker") {
            while true {
                let (items, stopping) = queue.withLock(when: { !$0.items.isEmpty || $0.stopping }) { queue in
                    defer { queue.items = [] }
                    return (queue.items, queue.stopping)
                }
                handled.withLock { $0 += items }
                if stopping && items.isEmpty { return }
            }
        }
        #expect(NamedThread.liveThreadNames().contains("basics-worker"))
        for item in 0..<1_000 {
            queue.withLock { $0.items.append(item) }
            queue.signal()
        }
        queue.withLock { $0.stopping = true }
        queue.signal()
        worker.join()
        #expect(handled.withLock { $0 } == Array(0..<1_000))
        #expect(!NamedThread.liveThreadNames().contains("basics-worker"))
    }

    /// `withLock(when:)` returns only once the state satisfies the condition another thread sets.
    @Test func aWaiterWakesWhenAnotherThreadChangesTheState() throws {
        let lock = ConditionLock(0)
        let setter = try NamedThread(name: "basics-setter") {
            usleep(20_000)
            lock.withLock { $0 = 42 }
            lock.broadcast()
        }
        let seen = lock.withLock(when: { $0 != 0 }) { $0 }
        setter.join()
        #expect(seen == 42)
    }

    /// A wait with a deadline gives up when nothing changes, and returns early when it does.
    @Test func aWaitWithADeadlineTimesOutOrWakesEarly() throws {
        let lock = ConditionLock(false)
        var start = timespec()
        clock_gettime(CLOCK_MONOTONIC, &start)
        let timedOut = lock.withLock(when: { $0 }, timeoutMilliseconds: 50) { !$0 }
        var end = timespec()
        clock_gettime(CLOCK_MONOTONIC, &end)
        let elapsed = (end.tv_sec - start.tv_sec) * 1_000 + (end.tv_nsec - start.tv_nsec) / 1_000_000
        #expect(timedOut)
        #expect(elapsed >= 45)
        let setter = try NamedThread(name: "basics-early") {
            usleep(10_000)
            lock.withLock { $0 = true }
            lock.broadcast()
        }
        let woke = lock.withLock(when: { $0 }, timeoutMilliseconds: 10_000) { $0 }
        setter.join()
        #expect(woke)
    }

    @Test func threadErrorsNameTheCallAndTheReason() {
        let error = ThreadError(operation: "pthread_create", code: EAGAIN)
        #expect(error.description.hasPrefix("pthread_create failed: "))
        #expect(error.description.count > "pthread_create failed: ".count)
    }
}
