import Histogram
import Reactor

/// How the publisher reaches the server.
public enum PublisherKind: Sendable {
    /// `POST /api/transactions` over `connections` keep-alive connections, `batch` transactions per
    /// request (NDJSON when more than one), up to `pipeline` requests in flight on each connection.
    case http(connections: Int, batch: Int, pipeline: Int = 1)
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
    /// The requests each HTTP client has in flight, oldest first (its responses come in this order).
    private var requests: [[StampedRequest]] = []
    private var retryQueue: [StampedRequest] = []
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
        case .http(let connections, _, _):
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
        guard case .http(_, _, let pipeline) = kind else { return }
        do {
            let fd = try ClientSocket.connect(to: endpoint)
            let client = HTTPClient(index: index, depth: pipeline, delegate: self)
            if index < httpClients.count {
                httpClients[index] = client
                requests[index].removeAll(keepingCapacity: true)
            } else {
                httpClients.append(client)
                requests.append([])
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
        case .http(_, let batch, _):
            // Each client is filled up to its pipeline depth before the next one gets a request.
            clients: for client in httpClients {
                while client.isIdle {
                    if let retry = retryQueue.first {
                        retryQueue.removeFirst()
                        sample.retries += 1
                        send(client, retry)
                        continue
                    }
                    guard allowance(now: now) >= batch else { break clients }
                    let first = nextCounter
                    nextCounter += batch
                    shared.published.store(nextCounter, ordering: .relaxed)
                    send(client, StampedRequest(first: first, count: batch, sentAt: MonotonicClock.nanoseconds()))
                }
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

    private func send(_ client: HTTPClient, _ stamped: StampedRequest) {
        requests[client.index].append(stamped)
        let request = TransactionRequest.chunk(
            host: endpoint.description, firstCounter: stamped.first, count: stamped.count, sentAt: stamped.sentAt)
        client.send(request, tag: stamped.first, now: MonotonicClock.nanoseconds())
    }

    func httpClient(_ client: HTTPClient, received response: HTTPResponse, sentAt: UInt64, tag: Int) {
        guard httpClients[client.index] === client, !requests[client.index].isEmpty else { return }
        let request = requests[client.index].removeFirst()
        if request.first != tag { note("publisher: response for counter \(tag) matched to \(request.first)", in: &sample.failures) }
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

    func httpClientClosed(_ client: HTTPClient, unanswered: [HTTPPipeline.Entry], reason: String) {
        guard running, httpClients[client.index] === client else { return }
        sample.transportErrors += 1
        note("publisher: \(reason)", in: &sample.failures)
        // Every request without a response goes again, oldest first, with its original stamp.
        retryQueue.append(contentsOf: requests[client.index])
        requests[client.index].removeAll(keepingCapacity: true)
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

/// Counters sent in one request, with the send time stamped into their ids (kept for a retry).
struct StampedRequest {
    /// The first counter.
    var first: Int
    /// How many counters (transactions).
    var count: Int
    /// The monotonic ns stamped into the ids.
    var sentAt: UInt64
}
