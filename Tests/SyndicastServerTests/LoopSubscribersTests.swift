import Glibc
import Reactor
import Testing

@testable import SyndicastServer

/// A subscriber stand-in that records what it was given.
final class RecordingSubscriber: StreamSubscriber {
    let connection: Connection
    let topics: Set<String>
    var subscriptions: TopicSubscriptions
    var registration = StreamRegistration()
    let counters = StreamCounters()
    let loopSubscribers = LoopSubscribers()
    let usesSharedDeflate = false
    let isServerSentEvents = false
    var received: [UInt64] = []

    init(connection: Connection, topics: Set<String>) {
        self.connection = connection
        self.topics = topics
        self.subscriptions = TopicSubscriptions(topics)
    }

    var batches: [[UInt64]] = []

    func enqueue(_ event: EncodedEvent) { received.append(event.seq) }

    func enqueue(contentsOf events: [EncodedEvent], frames: [ByteChunk]) {
        #expect(frames.count == events.count && zip(frames, events).allSatisfy { $0 === $1.webSocketFrame })
        received += events.map(\.seq)
        batches.append(events.map(\.seq))
    }
}

/// A handler that does nothing (the subscribers under test never read).
final class IdleHandler: ConnectionHandler {
    func connectionReceived(_ connection: Connection, _ bytes: UnsafeRawBufferPointer) -> Int { bytes.count }
}

@Suite("Per-loop subscriber lists")
struct LoopSubscribersTests {
    @Test func topicSubscriptionsKeepWellKnownAndCustomTopicsWithPositions() {
        var subscriptions = TopicSubscriptions(["alerts", "orders", "rankings"])
        #expect(subscriptions.count == 3)
        #expect(subscriptions.names == ["alerts", "rankings", "orders"])
        #expect(subscriptions.position(of: "alerts") == nil)
        subscriptions.setPosition(7, for: "alerts")
        subscriptions.setPosition(3, for: "orders")
        #expect(subscriptions.position(of: "alerts") == 7)
        #expect(subscriptions.position(of: "orders") == 3)
        #expect(subscriptions.position(of: "rankings") == nil)
        let insertedAgain = subscriptions.insert("alerts")
        #expect(!insertedAgain)
        let removed = subscriptions.remove("orders")
        #expect(removed)
        #expect(!subscriptions.contains("orders"))
        #expect(subscriptions.position(of: "orders") == nil)
        #expect(subscriptions.names == ["alerts", "rankings"])
    }

    @Test func deliversByTopicAndRemovesInConstantTime() throws {
        let group = try EventLoopGroup(threads: 1)
        let loop = group.loops[0]
        // Registering needs no running loop; the descriptors are never read.
        let connection = loop.register(fd: dup(0), handler: IdleHandler(), peer: "test")
        let subscribers = LoopSubscribers()
        let first = RecordingSubscriber(connection: connection, topics: ["alerts"])
        let second = RecordingSubscriber(connection: connection, topics: ["alerts", "rankings"])
        let third = RecordingSubscriber(connection: connection, topics: ["alerts"])
        for subscriber in [first, second, third] { subscribers.add(subscriber, topics: subscriber.topics) }
        subscribers.remove(first, topics: first.topics)
        let frame = ByteChunk([0x81, 0x00])
        subscribers.deliver([
            EncodedEvent(test: 1, topic: "alerts", frame: frame), EncodedEvent(test: 2, topic: "rankings", frame: frame),
            EncodedEvent(test: 3, topic: "orders", frame: frame),
        ])
        #expect(first.received.isEmpty)
        #expect(second.received == [1, 2])
        #expect(third.received == [1])
        #expect(subscribers.subscriptionCount == 3)
        #expect(second.batches == [[1, 2]], "each subscriber once, with the events of its topics in order")
        #expect(third.batches == [[1]])

        // One topic: each subscriber takes the whole batch at once, in order.
        subscribers.deliver((4...6).map { EncodedEvent(test: $0, topic: "alerts", frame: ByteChunk([0x81, 0x00])) })
        #expect(second.received == [1, 2, 4, 5, 6])
        #expect(third.received == [1, 4, 5, 6])
        #expect(second.batches == [[1, 2], [4, 5, 6]])
        #expect(third.batches == [[1], [4, 5, 6]])
        subscribers.remove(second, topics: second.topics)
        subscribers.remove(third, topics: third.topics)
        #expect(subscribers.subscriptionCount == 0)
    }
}

@Suite("Per-loop subscriber lists: posting for one pass per iteration")
struct LoopSubscribersPostTests {
    @Test func postedEventsArriveAtTheEndOfTheIterationInOnePass() throws {
        let group = try EventLoopGroup(threads: 1)
        let loop = group.loops[0]
        let connection = loop.register(fd: dup(0), handler: IdleHandler(), peer: "test")
        let subscribers = LoopSubscribers()
        let early = RecordingSubscriber(connection: connection, topics: ["alerts", "rankings"])
        subscribers.add(early, topics: early.topics)
        let frame = ByteChunk([0x81, 0x00])
        subscribers.post([EncodedEvent(test: 1, topic: "alerts", frame: frame)], on: loop)
        subscribers.post([EncodedEvent(test: 2, topic: "rankings", frame: frame)], on: loop)
        #expect(early.received.isEmpty, "nothing before the end of the iteration")

        // A subscriber that joins now must not get what was posted before it joined.
        let late = RecordingSubscriber(connection: connection, topics: ["alerts"])
        subscribers.add(late, topics: late.topics)
        #expect(early.received == [1, 2], "joining delivers what was pending first")
        subscribers.post([EncodedEvent(test: 3, topic: "alerts", frame: frame)], on: loop)
        subscribers.post([EncodedEvent(test: 4, topic: "alerts", frame: frame)], on: loop)
        subscribers.deliverPending()  // what the loop's end-of-iteration task does
        #expect(early.received == [1, 2, 3, 4])
        #expect(late.received == [3, 4])
        #expect(late.batches == [[3, 4]], "two posts, one pass")
    }
}

extension EncodedEvent {
    convenience init(test seq: UInt64, topic: String, frame: ByteChunk) {
        self.init(seq: seq, topic: topic, json: [], webSocketFrame: frame, deflatedFrame: nil, serverSentEvent: nil)
    }
}
