import Histogram
import Reactor

/// How the publisher reaches the server.
public enum PublisherKind: Sendable {
    /// `POST /api/transactions` over `connections` keep-alive connections, `batch` transactions per
    /// request (NDJSON when more than one).
    case http(connections: Int, batch: Int)
    /// Text messages of `size` bytes on one `/broadcast` WebSocket at `target`.
    case webSocket(target: String, size: Int)
}

/// Sends stamped transactions or messages from loop 0 as fast as allowed: by `rate` (counters per
/// second) if set, and by `window` (counters not yet delivered to every subscriber) if set.
final class Publisher: HTTPClientDelegate, WebSocketClientDelegate {
    let loop: EventLoop
    let endpoint: Endpoint
    let kind: PublisherKind
    let rate: Double?
    let window: Int?
    let shared: RunShared

    private var httpClients: [HTTPClient] = []
    /// The counters each HTTP client has in flight (first, count, send time).
    private var requests: [(first: Int, count: Int, sentAt: UInt64)] = []
    private var retryQueue: [(first: Int, count: Int, sentAt: UInt64)] = []
    private var socket: WebSocketClient?
    private var sample = LoopSample()
    private var nextCounter = 0
    private var startedAt: UInt64 = 0
    private var deadline: UInt64 = 0
    private var running = false
    private var reconnects = 0

    init(loop: EventLoop, endpoint: Endpoint, kind: PublisherKind, rate: Double?, window: Int?, shared: RunShared) {
        self.loop = loop
        self.endpoint = endpoint
        self.kind = kind
        self.rate = rate
        self.window = window
        self.shared = shared
    }

    /// Opens the publisher's connections.
    func connect() {
        switch kind {
        case .http(let connections, _):
            for index in 0..<max(connections, 1) { openHTTP(index) }
        case .webSocket(let target, _):
            do {
                let fd = try ClientSocket.connect(to: endpoint)
                let client = WebSocketClient(index: -1, delegate: self, endpoint: endpoint, target: target)
                socket = client
                loop.register(fd: fd, handler: client, peer: endpoint.description)
            } catch {
                note("publisher: \(error)", in: &sample.failures)
            }
        }
    }

    private func openHTTP(_ index: Int) {
        do {
            let fd = try ClientSocket.connect(to: endpoint)
            let client = HTTPClient(index: index, delegate: self)
            if index < httpClients.count {
                httpClients[index] = client
            } else {
                httpClients.append(client)
                requests.append((0, 0, 0))
            }
            loop.register(fd: fd, handler: client, peer: endpoint.description)
        } catch {
            sample.transportErrors += 1
            note("publisher: \(error)", in: &sample.failures)
        }
    }

    /// Starts publishing for `seconds`.
    func start(seconds: Double) {
        startedAt = MonotonicClock.nanoseconds()
        deadline = startedAt + UInt64(max(seconds, 0) * 1e9)
        running = true
        loop.every(milliseconds: 1) { [self] in pump() }
        pump()
    }

    /// Whether the publishing period is over.
    var finished: Bool { !running }

    /// How many more counters may go out now.
    private func allowance(now: UInt64) -> Int {
        var allowed = Int.max
        if let rate {
            let due = Int(Double(now - startedAt) / 1e9 * rate) + 1
            allowed = min(allowed, due - nextCounter)
        }
        if let window {
            let head = shared.completeHead()
            if head != Int.max { allowed = min(allowed, head + window - nextCounter) }
        }
        return allowed
    }

    private func pump() {
        guard running else { return }
        let now = MonotonicClock.nanoseconds()
        if now >= deadline {
            running = false
            return
        }
        switch kind {
        case .http(_, let batch):
            for client in httpClients where client.isIdle {
                if let retry = retryQueue.first {
                    retryQueue.removeFirst()
                    sample.retries += 1
                    send(client, first: retry.first, count: retry.count, sentAt: retry.sentAt)
                    continue
                }
                guard allowance(now: now) >= batch else { break }
                let first = nextCounter
                nextCounter += batch
                shared.published.store(nextCounter, ordering: .relaxed)
                send(client, first: first, count: batch, sentAt: MonotonicClock.nanoseconds())
            }
        case .webSocket(_, let size):
            guard let socket, socket.isOpen else { return }
            var allowed = min(allowance(now: now), 256)
            while allowed > 0 && socket.pendingOutboundBytes < 1 << 20 {
                let stamp = MessageStamp(counter: nextCounter, sentAt: MonotonicClock.nanoseconds())
                nextCounter += 1
                shared.published.store(nextCounter, ordering: .relaxed)
                socket.send(text: stamp.broadcastMessage(size: size))
                sample.accepted += 1
                sample.acceptedInterval += 1
                shared.accepted.add(1, ordering: .relaxed)
                allowed -= 1
            }
        }
    }

    private func send(_ client: HTTPClient, first: Int, count: Int, sentAt: UInt64) {
        requests[client.index] = (first, count, sentAt)
        let request = TransactionRequest.chunk(host: endpoint.description, firstCounter: first, count: count, sentAt: sentAt)
        client.send(request, tag: first, now: MonotonicClock.nanoseconds())
    }

    func httpClient(_ client: HTTPClient, received response: HTTPResponse, sentAt: UInt64, tag: Int) {
        let request = requests[client.index]
        sample.statusCounts[response.status, default: 0] += 1
        _ = sample.requestLatency.record((MonotonicClock.nanoseconds() - sentAt) / 1_000)
        if (200..<300).contains(response.status) {
            sample.accepted += request.count
            sample.acceptedInterval += request.count
            shared.accepted.add(request.count, ordering: .relaxed)
        } else {
            sample.rejected += 1
            if response.status == 429 || response.status == 503 { retryQueue.append(request) }
        }
        pump()
    }

    func httpClientClosed(_ client: HTTPClient, inFlight: Bool, tag: Int, reason: String) {
        guard running else { return }
        sample.transportErrors += 1
        note("publisher: \(reason)", in: &sample.failures)
        if inFlight { retryQueue.append(requests[client.index]) }
        reconnects += 1
        if reconnects <= 1_000 { openHTTP(client.index) }
    }

    // The broadcast publisher's own socket: it receives every message too, and ignores them.
    func webSocketOpened(_ client: WebSocketClient) {}
    func webSocketReceived(_ client: WebSocketClient, message: UnsafeRawBufferPointer) {}
    func webSocketClosed(_ client: WebSocketClient, wasOpen: Bool, reason: String) {
        guard running else { return }
        sample.transportErrors += 1
        note("publisher: \(reason)", in: &sample.failures)
    }

    /// Whether the publisher's connections are up.
    var isConnected: Bool {
        switch kind {
        case .http: httpClients.contains { $0.isIdle || $0.inFlight }
        case .webSocket: socket?.isOpen == true
        }
    }

    /// This publisher's numbers; resets the per-interval parts.
    func takeSample() -> LoopSample {
        var result = sample
        result.published = nextCounter
        sample.acceptedInterval = 0
        sample.requestLatency.reset()
        return result
    }

    /// Closes every connection.
    func closeAll() {
        running = false
        for client in httpClients { client.abort() }
        socket?.abort()
    }
}
