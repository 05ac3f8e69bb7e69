import Reactor

/// What an `HTTPClient` reports to its owner (all calls on the loop's thread).
public protocol HTTPClientDelegate: AnyObject {
    /// A response to the request sent `sentAt` (monotonic ns) with `tag` arrived.
    func httpClient(_ client: HTTPClient, received response: HTTPResponse, sentAt: UInt64, tag: Int)
    /// The connection is gone; the requests still in flight (oldest first) got no response.
    func httpClientClosed(_ client: HTTPClient, unanswered: [HTTPPipeline.Entry], reason: String)
}

/// One keep-alive HTTP/1.1 client connection with up to `depth` requests in flight (pipelined);
/// responses are matched to requests in the order they were sent.
public final class HTTPClient: ConnectionHandler {
    /// Index of this client in its publisher.
    public let index: Int
    unowned let delegate: HTTPClientDelegate
    /// The transport, while registered.
    public private(set) var connection: Connection?
    /// The requests awaiting their responses, oldest first.
    public private(set) var pipeline: HTTPPipeline
    private var closeReason = "closed by peer"
    /// Set when a response said `Connection: close`: nothing more is sent on this connection.
    private var closing = false

    /// Creates a client that keeps up to `depth` requests in flight; register it with a loop to connect.
    public init(index: Int, depth: Int = 1, delegate: HTTPClientDelegate) {
        self.index = index
        self.pipeline = HTTPPipeline(depth: depth)
        self.delegate = delegate
    }

    /// Whether any request awaits its response.
    public var inFlight: Bool { !pipeline.isEmpty }

    /// Whether the client can take a request now (open, and fewer than `depth` in flight).
    public var isIdle: Bool { connection?.isOpen == true && !closing && pipeline.hasRoom }

    /// Sends a complete request; `tag` comes back with its response (e.g. the first counter).
    /// Requests written in one loop iteration leave in one flush.
    public func send(_ request: ByteChunk, tag: Int, now: UInt64) {
        guard let connection, connection.isOpen, !closing, pipeline.push(sentAt: now, tag: tag) else { return }
        connection.write(request)
    }

    public func connectionOpened(_ connection: Connection) {
        self.connection = connection
    }

    /// Parses one response at a time; the loop offers the rest of the buffer again at once.
    public func connectionReceived(_ connection: Connection, _ bytes: UnsafeRawBufferPointer) -> Int {
        switch HTTPResponseParser.parse(bytes) {
        case .incomplete:
            return 0
        case .invalid(let reason):
            closeReason = "bad response: \(reason)"
            connection.close(abort: true)
            return bytes.count
        case .complete(let response, let length):
            guard let request = pipeline.popOldest() else {
                closeReason = "unsolicited response \(response.status)"
                connection.close(abort: true)
                return bytes.count
            }
            // The owner hears of this response before the close reports what is left unanswered.
            closing = closing || !response.keepsAlive
            delegate.httpClient(self, received: response, sentAt: request.sentAt, tag: request.tag)
            if closing { connection.close() }
            return length
        }
    }

    /// Closes at once (end of run).
    public func abort() {
        closeReason = "closed by the load test"
        connection?.close(abort: true)
    }

    public func connectionClosed(_ connection: Connection) {
        let unanswered = pipeline.removeAll()
        self.connection = nil
        delegate.httpClientClosed(self, unanswered: unanswered, reason: closeReason)
    }
}
