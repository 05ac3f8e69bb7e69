import Synchronization

/// Process-wide subscription counts the fan-out consults once per batch: which topics anybody
/// subscribes to (events of other topics are not encoded or posted at all), how many take the
/// shared deflated frame, and how many are SSE streams (the SSE record is built only for them).
final class StreamCounters: Sendable {
    private let deflate = Atomic<Int>(0)
    private let serverSent = Atomic<Int>(0)
    private let subscribers = Atomic<Int>(0)
    private let topics = Mutex<[String: Int]>([:])

    var sharedDeflateSubscribers: Int { deflate.load(ordering: .relaxed) }
    var serverSentSubscribers: Int { serverSent.load(ordering: .relaxed) }
    var streamSubscribers: Int { subscribers.load(ordering: .relaxed) }

    /// Topics with at least one subscriber right now.
    func subscribedTopics() -> Set<String> {
        topics.withLock { Set($0.keys) }
    }

    func subscriberAdded(sharedDeflate: Bool, serverSentEvents: Bool = false) {
        subscribers.add(1, ordering: .relaxed)
        if sharedDeflate { deflate.add(1, ordering: .relaxed) }
        if serverSentEvents { serverSent.add(1, ordering: .relaxed) }
    }

    func subscriberRemoved(sharedDeflate: Bool, serverSentEvents: Bool = false) {
        subscribers.subtract(1, ordering: .relaxed)
        if sharedDeflate { deflate.subtract(1, ordering: .relaxed) }
        if serverSentEvents { serverSent.subtract(1, ordering: .relaxed) }
    }

    func topicsAdded(_ added: some Sequence<String>) {
        topics.withLock { counts in
            for topic in added { counts[topic, default: 0] += 1 }
        }
    }

    func topicsRemoved(_ removed: some Sequence<String>) {
        topics.withLock { counts in
            for topic in removed {
                let left = (counts[topic] ?? 1) - 1
                counts[topic] = left > 0 ? left : nil
            }
        }
    }
}
