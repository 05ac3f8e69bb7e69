import Broker
import Reactor
import WebSocket

/// One event in every wire form, encoded once on the broker thread and shared by all loops and
/// all subscribers (DESIGN.md §5): a WebSocket text frame, optionally a permessage-deflate frame,
/// and an SSE record. Subscribers' queues hold references to these same chunks.
final class EncodedEvent: Sendable {
    let seq: UInt64
    let topic: String
    /// The JSON text, for the rare subscriber that needs its own encoding.
    let json: [UInt8]
    let webSocketFrame: ByteChunk
    /// Compressed with a fresh context and a 15-bit window (valid for every client that did not
    /// limit `server_max_window_bits`); nil when no such subscriber exists or it would not shrink.
    let deflatedFrame: ByteChunk?
    /// Built only while SSE subscribers exist.
    let serverSentEvent: ByteChunk?

    /// `epoch` goes into the SSE record's id (``ServerSentEvents/eventID(epoch:seq:)``).
    init(_ event: BrokerEvent, epoch: String, deflater: inout SharedMessageDeflater?, serverSentEvents: Bool) {
        let json = event.encodeJSON()
        seq = event.seq
        topic = event.topic
        self.json = json
        webSocketFrame = json.withUnsafeBytes { ByteChunk(WebSocketFrameEncoder.encode(.text, payload: $0)) }
        if deflater != nil {
            let compressed = json.withUnsafeBytes { deflater?.compress($0) } ?? []
            deflatedFrame =
                compressed.count < json.count
                ? compressed.withUnsafeBytes { ByteChunk(WebSocketFrameEncoder.encode(.text, payload: $0, rsv1: true)) }
                : webSocketFrame
        } else {
            deflatedFrame = nil
        }
        serverSentEvent = serverSentEvents ? ByteChunk(Self.serverSentRecord(seq: event.seq, epoch: epoch, json: json)) : nil
    }

    /// The SSE record of an event: sequenced events carry `<epoch>-<seq>` as their id, the
    /// ephemeral ones (`stats`, seq 0) none.
    static func serverSentRecord(seq: UInt64, epoch: String, json: [UInt8]) -> [UInt8] {
        ServerSentEvents.record(id: seq == 0 ? nil : ServerSentEvents.eventID(epoch: epoch, seq: seq), json: json)
    }

    /// A `/broadcast` message (benchmark contract): one prebuilt WebSocket frame, nothing else.
    convenience init(broadcastFrame: ByteChunk) {
        self.init(seq: 0, topic: BroadcastHub.topic, json: [], webSocketFrame: broadcastFrame, deflatedFrame: nil, serverSentEvent: nil)
    }

    /// A copy with chunks of its own, for another event loop: every subscriber's queue retains and
    /// releases the chunk it holds, and when two loops do that to one object its reference count
    /// bounces between the cores (copying ~200 bytes per loop is far cheaper than 10,000
    /// contended atomic operations).
    func copyForAnotherLoop() -> EncodedEvent {
        let frame = ByteChunk(webSocketFrame.bytes)
        return EncodedEvent(
            seq: seq, topic: topic, json: json, webSocketFrame: frame,
            deflatedFrame: deflatedFrame.map { $0 === webSocketFrame ? frame : ByteChunk($0.bytes) },
            serverSentEvent: serverSentEvent.map { ByteChunk($0.bytes) })
    }

    init(seq: UInt64, topic: String, json: [UInt8], webSocketFrame: ByteChunk, deflatedFrame: ByteChunk?, serverSentEvent: ByteChunk?) {
        self.seq = seq
        self.topic = topic
        self.json = json
        self.webSocketFrame = webSocketFrame
        self.deflatedFrame = deflatedFrame
        self.serverSentEvent = serverSentEvent
    }
}

/// The broker's sink: encodes each batch once, then posts it to every event loop's mailbox.
final class LoopFanout: BrokerSink {
    private let loops: ServerLoops
    let counters: StreamCounters
    /// The broker's epoch, for the SSE records' ids.
    let epoch: String

    init(loops: ServerLoops, counters: StreamCounters, epoch: String) {
        self.loops = loops
        self.counters = counters
        self.epoch = epoch
    }

    /// Events of topics nobody subscribes to are dropped here: not encoded, not posted.
    func deliver(_ events: [BrokerEvent]) {
        let wanted = counters.subscribedTopics()
        guard !wanted.isEmpty else { return }
        var deflater: SharedMessageDeflater? = counters.sharedDeflateSubscribers > 0 ? SharedMessageDeflater(windowBits: 15) : nil
        let serverSent = counters.serverSentSubscribers > 0
        let encoded = events.filter { wanted.contains($0.topic) }.map {
            EncodedEvent($0, epoch: epoch, deflater: &deflater, serverSentEvents: serverSent)
        }
        guard !encoded.isEmpty else { return }
        let loops = self.loops
        for (index, loop) in loops.all.enumerated() {
            let batch = index == 0 ? encoded : encoded.map { $0.copyForAnotherLoop() }
            loop.execute { loops.state(of: loop).subscribers.post(batch, on: loop) }
        }
    }

    /// Releases dropped history on an event loop (chosen by sequence number, so that with several
    /// loops the work is spread) instead of the broker's thread (see ``DroppedGroups``).
    func release(_ groups: DroppedGroups) {
        guard !loops.all.isEmpty else { return }
        let loop = loops.all[Int(groups.firstSeq % UInt64(loops.all.count))]
        loop.execute { groups.release() }
    }
}
