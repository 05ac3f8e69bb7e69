import Glibc
import Reactor

/// One loop's share of the metrics, as plain integers and sample buffers touched only on that
/// loop's thread: the fan-out counts a delivery pass's messages here (no atomic or lock per
/// message), and the loop's ~1 s tick (``tick(loop:into:)``) publishes the differences into the
/// registry in one go. Samples are flushed at the tick or when ``sampleLimit`` of one kind pile up.
final class LoopMetrics {
    /// Events queued to this loop's stream subscribers (one per subscriber per event).
    var messagesSent = 0
    /// Bytes of those events (their WebSocket frames).
    var bytesSent = 0
    private var publishedMessages = 0
    private var publishedBytes = 0
    /// Nanoseconds each fan-out pass took, not yet published.
    private var passNanoseconds: [Int64] = []
    /// Nanoseconds each ingest request took, not yet published.
    private var ingestNanoseconds: [Int64] = []
    /// Where samples go; nil for loop states built without a server (unit tests).
    private let target: ServerMetrics?
    /// When the tick is due, in monotonic nanoseconds (0: not ticking yet).
    private var tickDue: Int64 = 0

    /// Most samples of one kind held before they are published without waiting for the tick.
    static let sampleLimit = 512
    /// The tick's period.
    static let tickMilliseconds: Int64 = 1_000

    init(target: ServerMetrics? = nil) {
        self.target = target
    }

    /// Records one fan-out pass that took `nanoseconds`.
    func recordPass(nanoseconds: Int64) {
        passNanoseconds.append(nanoseconds)
        if passNanoseconds.count >= Self.sampleLimit { publishSamples() }
    }

    /// Records one ingest request answered `nanoseconds` after it was decoded.
    func recordIngest(nanoseconds: Int64) {
        ingestNanoseconds.append(nanoseconds)
        if ingestNanoseconds.count >= Self.sampleLimit { publishSamples() }
    }

    /// Starts the tick on `loop` (call on its thread): each second it records how late it fired
    /// (the event-loop lag), counts the loop's connections by kind and publishes the counts.
    func startTicking(on loop: EventLoop) {
        guard let target else { return }
        tickDue = (loop.now + Self.tickMilliseconds) * 1_000_000
        loop.every(milliseconds: Self.tickMilliseconds) { [self] in
            // The loop schedules the next firing from its iteration clock, as `tickDue` does.
            target.families.eventLoopLag.recordNanoseconds(max(0, monotonicNanoseconds() - tickDue))
            tickDue = (loop.now + Self.tickMilliseconds) * 1_000_000
            var counts = ConnectionCounts()
            loop.forEachConnection { connection in
                switch connection.handler {
                case is WebSocketSession: counts.webSocket += 1
                case is ServerSentEventsSession: counts.serverSent += 1
                default: break
                }
            }
            target.storeConnections(counts, loop: loop.index)
            publish()
        }
    }

    /// Publishes the counts and samples gathered since the last call.
    func publish() {
        guard let target else { return }
        if messagesSent != publishedMessages {
            target.families.streamMessagesSent.increment(by: Int64(messagesSent &- publishedMessages))
            publishedMessages = messagesSent
        }
        if bytesSent != publishedBytes {
            target.families.streamBytesSent.increment(by: Int64(bytesSent &- publishedBytes))
            publishedBytes = bytesSent
        }
        publishSamples()
    }

    private func publishSamples() {
        guard let target else {
            passNanoseconds.removeAll(keepingCapacity: true)
            ingestNanoseconds.removeAll(keepingCapacity: true)
            return
        }
        for sample in passNanoseconds { target.families.fanOutPass.recordNanoseconds(sample) }
        for sample in ingestNanoseconds { target.families.ingestLatency.recordNanoseconds(sample) }
        passNanoseconds.removeAll(keepingCapacity: true)
        ingestNanoseconds.removeAll(keepingCapacity: true)
    }
}

/// Nanoseconds from CLOCK_MONOTONIC (a vDSO call, no system call).
func monotonicNanoseconds() -> Int64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
}
