import Reactor
import WebSocket

/// `/broadcast` (with `--broadcast`): the benchmark contract shared with the peer servers —
/// every text message a client sends goes to every connected `/broadcast` client, sender included.
///
/// It runs on the same fan-out engine as the event stream (shared frames, per-loop subscriber
/// lists, corked writev) but skips the broker: the receiving loop frames each message once and
/// posts one batch per read to every loop. Its subscribers are listed under ``topic``, a name no
/// client can subscribe to; it is not one of the product's topics (`Topic`,
/// ``TopicSubscriptions/wellKnown``) and gets no inline slot.
enum BroadcastHub {
    /// The list name of `/broadcast` clients; cannot collide with a custom topic (those are
    /// [A-Za-z0-9._-]).
    static let topic = "\u{0}broadcast"

    /// Frames `messages` once and delivers them on every loop.
    static func broadcast(_ messages: [[UInt8]], from loop: EventLoop, loops: ServerLoops) {
        guard !messages.isEmpty else { return }
        let events = messages.map { message in
            EncodedEvent(broadcastFrame: message.withUnsafeBytes { ByteChunk(WebSocketFrameEncoder.encode(.text, payload: $0)) })
        }
        for target in loops.all {
            if target === loop {
                loops.state(of: target).subscribers.deliver(events)
            } else {
                // Chunks of its own for the other loop (see `EncodedEvent.copyForAnotherLoop`).
                let copies = events.map { $0.copyForAnotherLoop() }
                target.execute { loops.state(of: target).subscribers.deliver(copies) }
            }
        }
    }
}
