import Glibc
import Reactor
import Synchronization

/// Everything a run keeps on one loop, stored in `EventLoop.context` and reached only from the
/// loop's thread.
final class LoopAgent {
    var subscribers: SubscriberGroup?
    var publisher: Publisher?

    /// The loop's sample: subscribers and publisher combined.
    func takeSample() -> LoopSample {
        var sample = subscribers?.takeSample() ?? LoopSample()
        if subscribers == nil { sample.completeHead = Int.max }
        if let publisher { sample.add(publisher.takeSample()) }
        return sample
    }

    /// The agent of `loop`; call on the loop's thread.
    static func of(_ loop: EventLoop) -> LoopAgent? {
        loop.context as? LoopAgent
    }
}

/// Runs a closure on every loop and waits for the answers (main thread only).
enum LoopCall {
    final class Inbox<Value: Sendable>: Sendable {
        let values = Mutex<[Int: Value]>([:])
    }

    /// Runs `body` with each loop's agent on that loop's thread; returns the answers in loop order
    /// (loops that do not answer within `timeout` seconds are left out).
    static func onEveryLoop<Value: Sendable>(
        _ loops: [EventLoop], timeout: Double = 5, _ body: @escaping @Sendable (LoopAgent) -> Value
    ) -> [Value] {
        let inbox = Inbox<Value>()
        for loop in loops {
            loop.execute {
                guard let agent = LoopAgent.of(loop) else { return }
                let value = body(agent)
                inbox.values.withLock { $0[loop.index] = value }
            }
        }
        let deadline = MonotonicClock.seconds() + timeout
        while MonotonicClock.seconds() < deadline {
            if inbox.values.withLock({ $0.count }) == loops.count { break }
            usleep(500)
        }
        return inbox.values.withLock { values in loops.compactMap { values[$0.index] } }
    }
}
