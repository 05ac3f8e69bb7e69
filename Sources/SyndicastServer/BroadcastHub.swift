import Reactor
import WebSocket

/// `/broadcast` (with `--broadcast`): the benchmark contract shared with the peer servers —
/// every text message a client sends goes to every connected `/broadcast` client, sender included.
///
/// It runs on the same fan-out engine as the event stream (shared frames, per-loop subscriber
/// lists, corked writev) but skips the broker: the receiving loop frames each message once and
/// posts one batch per read to every loop.
enum BroadcastHub {
    /// Internal topic name; cannot collide with a custom topic (those are [A-Za-z0-9._-]).
    static let topic = "\u{0}broadcast"

    /// Frames `messages` once and delivers them on every loop.
    static func broadcast(_ messages: [[UInt8]], from loop: EventLoop, loops: [EventLoop]) {
        guard !messages.isEmpty else { return }
        let events = messages.map { message in
            EncodedEvent(broadcastFrame: message.withUnsafeBytes { ByteChunk(WebSocketFrameEncoder.encode(.text, payload: $0)) })
        }
        for target in loops {
            if target === loop {
                target.server.subscribers.deliver(events)
            } else {
                // Chunks of its own for the other loop (see `EncodedEvent.copyForAnotherLoop`).
                let copies = events.map { $0.copyForAnotherLoop() }
                target.execute { target.server.subscribers.deliver(copies) }
            }
        }
    }
}
