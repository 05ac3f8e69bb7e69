import Reactor

/// What an `HTTPClient` reports to its owner (all calls on the loop's thread).
public protocol HTTPClientDelegate: AnyObject {
    /// A response to the request sent `sentAt` (monotonic ns) arrived.
    func httpClient(_ client: HTTPClient, received response: HTTPResponse, sentAt: UInt64, tag: Int)
    /// The connection is gone; a request in flight (if any) failed.
    func httpClientClosed(_ client: HTTPClient, inFlight: Bool, tag: Int, reason: String)
}

/// One keep-alive HTTP/1.1 client connection with at most one request in flight.
public final class HTTPClient: ConnectionHandler {
    /// Index of this client in its publisher.
    public let index: Int
    unowned let delegate: HTTPClientDelegate
    /// The transport, while registered.
    public private(set) var connection: Connection?
    /// Whether a request awaits its response.
    public private(set) var inFlight = false
    private var sentAt: UInt64 = 0
    private var tag = 0
    private var closeReason = "closed by peer"

    /// Creates a client; register it with a loop to connect.
    public init(index: Int, delegate: HTTPClientDelegate) {
        self.index = index
        self.delegate = delegate
    }

    /// Whether the client can take a request now.
    public var isIdle: Bool { connection?.isOpen == true && !inFlight }

    /// Sends a complete request; `tag` comes back with the response (e.g. the first counter).
    public func send(_ request: ByteChunk, tag: Int, now: UInt64) {
        guard let connection, connection.isOpen, !inFlight else { return }
        inFlight = true
        sentAt = now
        self.tag = tag
        connection.write(request)
    }

    public func connectionOpened(_ connection: Connection) {
        self.connection = connection
    }

    public func connectionReceived(_ connection: Connection, _ bytes: UnsafeRawBufferPointer) -> Int {
        switch HTTPResponseParser.parse(bytes) {
        case .incomplete:
            return 0
        case .invalid(let reason):
            closeReason = "bad response: \(reason)"
            connection.close(abort: true)
            return bytes.count
        case .complete(let response, let length):
            guard inFlight else {
                closeReason = "unsolicited response \(response.status)"
                connection.close(abort: true)
                return bytes.count
            }
            inFlight = false
            if !response.keepsAlive { connection.close() }
            delegate.httpClient(self, received: response, sentAt: sentAt, tag: tag)
            return length
        }
    }

    /// Closes at once (end of run).
    public func abort() {
        closeReason = "closed by the load test"
        connection?.close(abort: true)
    }

    public func connectionClosed(_ connection: Connection) {
        let wasInFlight = inFlight
        inFlight = false
        self.connection = nil
        delegate.httpClientClosed(self, inFlight: wasInFlight, tag: tag, reason: closeReason)
    }
}
