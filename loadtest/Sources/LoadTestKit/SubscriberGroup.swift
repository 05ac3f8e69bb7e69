import Histogram
import Reactor

/// Which messages carry stamps, and when a subscriber counts as ready.
public enum StreamKind: String, Sendable, Codable {
    /// `/ws` event stream: ready after the `snapshot`, stamps in amount-rule alerts.
    case alerts
    /// `/broadcast`: ready after the handshake, stamps at the start of each message.
    case broadcast
    /// Idle connections (the `connect` scenario): ready after the handshake, messages only counted.
    case idle
}

/// The subscribers of one event loop: opens them (a bounded number of handshakes at a time), reads
/// the stamp of each message, and records latency, loss and duplicates. Confined to its loop.
public final class SubscriberGroup: WebSocketClientDelegate {
    let loop: EventLoop
    let endpoint: Endpoint
    let target: String
    let kind: StreamKind
    let total: Int
    let maxPending: Int
    let sources: [String]
    let shared: RunShared
    let progress: LoopProgress

    private(set) var clients: [WebSocketClient] = []
    private var nextIndex = 0
    private var sample = LoopSample()
    private var liveReady = 0

    // In-flight window bookkeeping: deliveries per counter, from `completeHead` on.
    private var ring: [UInt32]
    private let ringMask: Int
    private var completeHead = 0
    private var lastHeadMove = MonotonicClock.nanoseconds()
    private static let snapshotPrefix = Array(#"{"type":"snapshot""#.utf8)

    /// Creates the group; `start()` begins connecting.
    init(
        loop: EventLoop, endpoint: Endpoint, target: String, kind: StreamKind, total: Int,
        maxPending: Int, sources: [String], shared: RunShared
    ) {
        self.loop = loop
        self.endpoint = endpoint
        self.target = target
        self.kind = kind
        self.total = total
        self.maxPending = max(maxPending, 1)
        self.sources = sources
        self.shared = shared
        self.progress = shared.progress[loop.index]
        ring = Array(repeating: 0, count: 1 << 12)
        ringMask = (1 << 12) - 1
    }

    /// Starts connecting and the stall check.
    func start() {
        openMore()
        loop.every(milliseconds: 100) { [self] in checkStall() }
    }

    /// Opens connections until `maxPending` handshakes are in progress or all are started.
    private func openMore() {
        while sample.pending < maxPending && nextIndex < total {
            let index = nextIndex
            nextIndex += 1
            let source = sources.isEmpty ? nil : sources[index % sources.count]
            do {
                let fd = try ClientSocket.connect(to: endpoint, source: source)
                let client = WebSocketClient(index: index, delegate: self, endpoint: endpoint, target: target)
                clients.append(client)
                sample.pending += 1
                loop.register(fd: fd, handler: client, peer: endpoint.description)
            } catch {
                sample.failed += 1
                note("\(error)", in: &sample.failures)
            }
        }
    }

    private func markReady(_ client: WebSocketClient) {
        guard !client.isReady else { return }
        client.isReady = true
        sample.pending -= 1
        sample.ready += 1
        liveReady += 1
        progress.liveSubscribers.store(liveReady, ordering: .relaxed)
        openMore()
    }

    public func webSocketOpened(_ client: WebSocketClient) {
        sample.opened += 1
        if kind != .alerts { markReady(client) }
    }

    public func webSocketReceived(_ client: WebSocketClient, message: UnsafeRawBufferPointer) {
        let stamp: MessageStamp?
        switch kind {
        case .alerts:
            if !client.isReady {
                if ByteSearch.hasPrefix(message, Self.snapshotPrefix) { markReady(client) }
                sample.otherMessages += 1
                return
            }
            stamp = MessageStamp.parseAlert(message)
        case .broadcast:
            stamp = MessageStamp.parseBroadcast(message)
        case .idle:
            stamp = nil
        }
        guard let stamp else {
            sample.otherMessages += 1
            return
        }
        let now = MonotonicClock.nanoseconds()
        sample.delivered += 1
        _ = sample.latency.record(now >= stamp.sentAt ? (now - stamp.sentAt) / 1_000 : 0)
        if client.counters.record(stamp.counter) {
            let counter = stamp.counter
            if counter >= completeHead && counter - completeHead <= ringMask {
                ring[counter & ringMask] &+= 1
                if counter == completeHead { advanceHead() }
            }
        } else {
            sample.duplicates += 1
        }
    }

    public func webSocketClosed(_ client: WebSocketClient, wasOpen: Bool, reason: String) {
        if client.isReady {
            sample.closedAfterReady += 1
            liveReady -= 1
            progress.liveSubscribers.store(liveReady, ordering: .relaxed)
            advanceHead()
        } else {
            sample.pending -= 1
            sample.failed += 1
        }
        if reason != "closed by the load test" { note(reason, in: &sample.failures) }
        openMore()
    }

    /// Moves `completeHead` past every counter all live subscribers have.
    private func advanceHead() {
        let published = shared.published.load(ordering: .relaxed)
        var moved = false
        while completeHead < published && Int(ring[completeHead & ringMask]) >= liveReady {
            ring[completeHead & ringMask] = 0
            completeHead += 1
            moved = true
        }
        if moved {
            lastHeadMove = MonotonicClock.nanoseconds()
            progress.completeHead.store(completeHead, ordering: .releasing)
        }
    }

    /// Gives up on a counter that has not reached every subscriber for a second (lost, or never
    /// accepted), so one lost message cannot stop the publisher for good.
    private func checkStall() {
        let now = MonotonicClock.nanoseconds()
        advanceHead()
        if completeHead >= shared.published.load(ordering: .relaxed) {
            lastHeadMove = now
        } else if now - lastHeadMove > 1_000_000_000 {
            ring[completeHead & ringMask] = 0
            completeHead += 1
            sample.skippedCounters += 1
            lastHeadMove = now
            progress.completeHead.store(completeHead, ordering: .releasing)
            advanceHead()
        }
    }

    /// This loop's numbers; resets the per-interval parts.
    func takeSample() -> LoopSample {
        var result = sample
        result.completeHead = completeHead
        sample.delivered = 0
        sample.otherMessages = 0
        sample.latency.reset()
        return result
    }

    /// Sum over ready subscribers of the counters they missed, given how many the server accepted.
    func lost(expected: Int) -> (lost: Int, worstSubscriber: Int) {
        var lost = 0
        var worst = 0
        for client in clients where client.isReady {
            let missing = max(expected - client.counters.unique, 0)
            lost += missing
            worst = max(worst, missing)
        }
        return (lost, worst)
    }

    /// Closes every connection (end of run).
    func closeAll() {
        for client in clients { client.abort() }
    }
}
