import Synchronization

/// State the loops of one run share across threads: how far the publisher got and how far each
/// loop's subscribers have caught up (for the in-flight window).
public final class RunShared: Sendable {
    /// Counters handed out by the publisher so far (the next counter to use).
    public let published = Atomic<Int>(0)
    /// Counters the server confirmed (2xx for POSTs; written for WebSocket messages).
    public let accepted = Atomic<Int>(0)
    /// One entry per loop.
    public let progress: [LoopProgress]

    init(loops: Int) {
        progress = (0..<max(loops, 1)).map { _ in LoopProgress() }
    }

    /// The lowest counter not yet delivered to every live subscriber, over loops that have any.
    func completeHead() -> Int {
        var lowest = Int.max
        for entry in progress where entry.liveSubscribers.load(ordering: .relaxed) > 0 {
            lowest = min(lowest, entry.completeHead.load(ordering: .acquiring))
        }
        return lowest
    }
}

/// How far one loop's subscribers have caught up.
public final class LoopProgress: Sendable {
    /// Every counter below this reached every live subscriber of the loop (or was given up on).
    let completeHead = Atomic<Int>(0)
    /// Ready, open subscribers of the loop.
    let liveSubscribers = Atomic<Int>(0)
}
