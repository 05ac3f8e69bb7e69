import Synchronization

/// Process-wide counts the fan-out needs: how many subscribers take the shared deflated frame.
final class StreamCounters: Sendable {
    private let deflate = Atomic<Int>(0)
    private let subscribers = Atomic<Int>(0)

    var sharedDeflateSubscribers: Int { deflate.load(ordering: .relaxed) }
    var streamSubscribers: Int { subscribers.load(ordering: .relaxed) }

    func subscriberAdded(sharedDeflate: Bool) {
        subscribers.add(1, ordering: .relaxed)
        if sharedDeflate { deflate.add(1, ordering: .relaxed) }
    }

    func subscriberRemoved(sharedDeflate: Bool) {
        subscribers.subtract(1, ordering: .relaxed)
        if sharedDeflate { deflate.subtract(1, ordering: .relaxed) }
    }
}
