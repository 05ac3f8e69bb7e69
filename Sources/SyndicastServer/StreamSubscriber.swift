import Reactor

/// A live stream consumer on one loop: a WebSocket on `/ws` or an SSE response on `/events`.
protocol StreamSubscriber: AnyObject {
    var connection: Connection { get }
    /// Topics it receives, and its position in each topic's list of its loop (O(1) removal).
    var subscriptions: TopicSubscriptions { get set }
    /// Queues one event (the subscriber picks its wire form); returns false if it had to drop the
    /// subscriber (slow consumer).
    func enqueue(_ event: EncodedEvent)
}

/// One loop's subscribers by topic. Touched only on that loop's thread.
final class LoopSubscribers {
    private var byTopic: [String: [StreamSubscriber]] = [:]
    /// Outbound bytes past which a subscriber counts as a slow consumer (DESIGN.md §3: 4008).
    var outboundLimit = 4 << 20

    func add(_ subscriber: StreamSubscriber, topics: some Sequence<String>) {
        for topic in topics where subscriber.subscriptions.position(of: topic) == nil {
            subscriber.subscriptions.setPosition(byTopic[topic, default: []].count, for: topic)
            byTopic[topic, default: []].append(subscriber)
        }
    }

    func remove(_ subscriber: StreamSubscriber, topics: some Sequence<String>) {
        for topic in topics {
            guard let position = subscriber.subscriptions.position(of: topic), var list = byTopic[topic],
                position < list.count, list[position] === subscriber
            else { continue }
            subscriber.subscriptions.setPosition(nil, for: topic)
            let last = list.removeLast()
            if position < list.count {
                list[position] = last
                last.subscriptions.setPosition(position, for: topic)
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
