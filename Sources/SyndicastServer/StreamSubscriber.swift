import Broker
import Reactor

/// A live stream consumer on one loop: a WebSocket on `/ws` or an SSE response on `/events`.
protocol StreamSubscriber: AnyObject {
    var connection: Connection { get }
    /// Topics it receives, and its position in each topic's list of its loop (O(1) removal).
    var subscriptions: TopicSubscriptions { get set }
    /// How far it has joined the stream.
    var registration: StreamRegistration { get set }
    var counters: StreamCounters { get }
    /// Its loop's subscriber lists.
    var loopSubscribers: LoopSubscribers { get }
    /// Takes the shared deflated frame.
    var usesSharedDeflate: Bool { get }
    var isServerSentEvents: Bool { get }
    /// Queues one event (the subscriber picks its wire form; it may close itself as a slow consumer).
    func enqueue(_ event: EncodedEvent)
    /// Queues several events of one topic, in order (the same as enqueueing them one by one);
    /// `frames` are their `webSocketFrame`s, gathered once for all subscribers.
    func enqueue(contentsOf events: [EncodedEvent], frames: [ByteChunk])
}

/// Where a subscriber stands in joining the stream: interest counted process-wide (from the
/// subscription request until it leaves), then listed on its loop (once the broker answered).
struct StreamRegistration {
    var hasInterest = false
    var isListed = false
    /// The last delivery pass of its loop that visited it (see `LoopSubscribers.deliver`).
    var deliveryPass: UInt64 = 0
}

extension StreamSubscriber {
    /// Step 1, before the broker is asked: count the interest, so the fan-out cannot skip a batch
    /// after the subscription's starting point as "unwanted".
    func declareInterest() {
        registration.hasInterest = true
        counters.topicsAdded(subscriptions.names)
        counters.subscriberAdded(sharedDeflate: usesSharedDeflate, serverSentEvents: isServerSentEvents)
    }

    /// Asks the broker for hello and a snapshot or replay of this subscriber's topics; `started`
    /// runs on this subscriber's loop with the answer.
    func requestStart(
        from broker: MessageBroker, since: UInt64?, epoch: String?, then started: @escaping (Self, SubscriptionStart) -> Void
    ) {
        let loop = connection.loop
        let session = LoopBound(self, on: loop)
        let handler = LoopBound(started, on: loop)
        broker.subscribe(
            SubscriptionRequest(topics: Set(subscriptions.names), since: since, epoch: epoch) { start in
                loop.execute { handler.value(session.value, start) }
            })
    }

    /// Step 2, on the loop, once hello and snapshot or replay are queued: receive live events.
    func joinLoopLists() {
        registration.isListed = true
        loopSubscribers.add(self, topics: subscriptions.names)
    }

    /// Leaves the stream (idempotent).
    func leaveStream() {
        if registration.isListed {
            registration.isListed = false
            loopSubscribers.remove(self, topics: subscriptions.names)
        }
        if registration.hasInterest {
            registration.hasInterest = false
            counters.topicsRemoved(subscriptions.names)
            counters.subscriberRemoved(sharedDeflate: usesSharedDeflate, serverSentEvents: isServerSentEvents)
        }
    }

    /// Adds topics mid-stream (client `subscribe` op).
    func addTopics(_ added: Set<String>) {
        if registration.hasInterest { counters.topicsAdded(added) }
        for topic in added { subscriptions.insert(topic) }
        if registration.isListed { loopSubscribers.add(self, topics: added) }
    }

    /// Removes topics mid-stream (client `unsubscribe` op).
    func removeTopics(_ removed: Set<String>) {
        if registration.isListed { loopSubscribers.remove(self, topics: removed) }
        if registration.hasInterest { counters.topicsRemoved(removed) }
        for topic in removed { subscriptions.remove(topic) }
    }
}

/// One loop's subscribers by topic. Touched only on that loop's thread.
final class LoopSubscribers {
    private var byTopic: [String: [StreamSubscriber]] = [:]
    /// Where each pass counts its messages and bytes and records its duration (plain integers
    /// of this loop: nothing per message leaves it).
    let metrics: LoopMetrics

    init(metrics: LoopMetrics = LoopMetrics()) {
        self.metrics = metrics
    }

    func add(_ subscriber: StreamSubscriber, topics: some Sequence<String>) {
        deliverPending()
        for topic in topics where subscriber.subscriptions.position(of: topic) == nil {
            subscriber.subscriptions.setPosition(byTopic[topic, default: []].count, for: topic)
            byTopic[topic, default: []].append(subscriber)
        }
    }

    func remove(_ subscriber: StreamSubscriber, topics: some Sequence<String>) {
        deliverPending()
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

    /// Events posted to this loop during the current iteration, delivered in one pass at its end.
    private var pending: [EncodedEvent] = []
    /// Counts delivery passes; a subscriber visited in this pass carries its number.
    private var pass: UInt64 = 0

    /// Queues `events` for one delivery pass at the end of this loop iteration, together with any
    /// others posted in the same iteration (each commit group arrives as its own mailbox task;
    /// one pass over the subscribers per iteration instead of one per group).
    func post(_ events: [EncodedEvent], on loop: EventLoop) {
        guard !events.isEmpty else { return }
        if pending.isEmpty {
            loop.atEndOfIteration { [self] in deliverPending() }
        }
        pending += events
    }

    /// Delivers what `post` gathered. Also called before the lists change, so a subscriber that
    /// joins gets exactly the events posted after it joined, as with immediate delivery.
    func deliverPending() {
        guard !pending.isEmpty else { return }
        let events = pending
        pending = []
        deliver(events)
    }

    /// Queues each event on every subscriber of its topic, in order; the loop flushes each
    /// connection once at the end of this iteration, so a subscriber gets the whole batch in one
    /// `writev`.
    ///
    /// The pass is subscriber by subscriber, each taking all of its events at once: every
    /// subscriber's objects are touched once per pass instead of once per event (measured: at
    /// 10,000 subscribers × 100 broadcasts/s a per-event pass is ~25% of the loop's time, mostly
    /// cache misses, and doubles p99 latency; `loadtest/run.sh broadcast --rate 100`). Subscribers
    /// with the same topics among those present share one filtered batch.
    func deliver(_ events: [EncodedEvent]) {
        guard let first = events.first else { return }
        let started = monotonicNanoseconds()
        defer { metrics.recordPass(nanoseconds: monotonicNanoseconds() &- started) }
        var topics: [String] = [first.topic]
        for event in events where !topics.contains(event.topic) {
            topics.append(event.topic)
            if topics.count > 64 { return deliverEventByEvent(events) }
        }
        if topics.count == 1 {
            guard let list = byTopic[first.topic] else { return }
            if events.count == 1 {
                for subscriber in list { subscriber.enqueue(first) }
                metrics.messagesSent &+= list.count
                metrics.bytesSent &+= list.count &* first.webSocketFrame.count
                return
            }
            let frames = events.map(\.webSocketFrame)
            for subscriber in list { subscriber.enqueue(contentsOf: events, frames: frames) }
            metrics.messagesSent &+= list.count &* events.count
            metrics.bytesSent &+= list.count &* frames.reduce(0) { $0 &+ $1.count }
            return
        }
        pass &+= 1
        var batches: [UInt64: (events: [EncodedEvent], frames: [ByteChunk], bytes: Int)] = [:]
        var messages = 0
        var bytes = 0
        for topic in topics {
            guard let list = byTopic[topic] else { continue }
            for subscriber in list where subscriber.registration.deliveryPass != pass {
                subscriber.registration.deliveryPass = pass
                var mask: UInt64 = 0
                for (index, name) in topics.enumerated() where subscriber.subscriptions.contains(name) {
                    mask |= 1 << UInt64(index)
                }
                let batch =
                    batches[mask]
                    ?? {
                        let mine = events.filter { event in
                            topics.firstIndex(of: event.topic).map { mask & (1 << UInt64($0)) != 0 } ?? false
                        }
                        let frames = mine.map(\.webSocketFrame)
                        let made = (events: mine, frames: frames, bytes: frames.reduce(0) { $0 &+ $1.count })
                        batches[mask] = made
                        return made
                    }()
                subscriber.enqueue(contentsOf: batch.events, frames: batch.frames)
                messages &+= batch.events.count
                bytes &+= batch.bytes
            }
        }
        metrics.messagesSent &+= messages
        metrics.bytesSent &+= bytes
    }

    /// The plain pass, for batches of very many topics.
    private func deliverEventByEvent(_ events: [EncodedEvent]) {
        for event in events {
            guard let list = byTopic[event.topic] else { continue }
            for subscriber in list {
                subscriber.enqueue(event)
            }
            metrics.messagesSent &+= list.count
            metrics.bytesSent &+= list.count &* event.webSocketFrame.count
        }
    }

    /// Number of subscriptions on this loop (subscriber × topic).
    var subscriptionCount: Int { byTopic.values.reduce(0) { $0 + $1.count } }
}
