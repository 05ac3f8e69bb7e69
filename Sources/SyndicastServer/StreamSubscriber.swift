import Reactor

/// A live stream consumer on one loop: a WebSocket on `/ws` or an SSE response on `/events`.
protocol StreamSubscriber: AnyObject {
    var connection: Connection { get }
    /// Topics it receives.
    var topics: Set<String> { get }
    /// Position in each topic's list of its loop's registry (for O(1) removal).
    var positions: [String: Int] { get set }
    /// Queues one event (the subscriber picks its wire form); returns false if it had to drop the
    /// subscriber (slow consumer).
    func enqueue(_ event: EncodedEvent)
}

/// One loop's subscribers by topic. Touched only on that loop's thread.
final class LoopSubscribers {
    private var byTopic: [String: [StreamSubscriber]] = [:]
    /// Outbound bytes past which a subscriber counts as a slow consumer (DESIGN.md §3: 4008).
    var outboundLimit = 4 << 20

    func add(_ subscriber: StreamSubscriber, topics: Set<String>) {
        for topic in topics where subscriber.positions[topic] == nil {
            subscriber.positions[topic] = byTopic[topic, default: []].count
            byTopic[topic, default: []].append(subscriber)
        }
    }

    func remove(_ subscriber: StreamSubscriber, topics: Set<String>) {
        for topic in topics {
            guard let position = subscriber.positions.removeValue(forKey: topic), var list = byTopic[topic],
                position < list.count, list[position] === subscriber
            else { continue }
            let last = list.removeLast()
            if position < list.count {
                list[position] = last
                last.positions[topic] = position
            }
            byTopic[topic] = list.isEmpty ? nil : list
        }
    }

    /// Queues each event on every subscriber of its topic; the loop flushes each connection once
    /// at the end of this iteration, so a subscriber gets the whole batch in one `writev`.
    func deliver(_ events: [EncodedEvent]) {
        for event in events {
            guard let list = byTopic[event.topic] else { continue }
            for subscriber in list {
                subscriber.enqueue(event)
            }
        }
    }

    /// Number of subscriptions on this loop (subscriber × topic).
    var subscriptionCount: Int { byTopic.values.reduce(0) { $0 + $1.count } }
}
