import HTTP1
import Reactor

/// The connection driver of one HTTP/1.1 connection: parses requests in place, has
/// ``Endpoints`` decide each from its head (before any body is read) and answer it, writes the
/// answers strictly in order, keeps the connection alive or closes it, runs its deadlines, and
/// hands the socket to a WebSocket or SSE session when a request switches protocols. What a
/// request means is the endpoints' business; this type only moves bytes and keeps order.
///
/// Pipelining: requests answered by the broker (ingest, publish, queries) do not stop the parser.
/// Up to ``pipelineWindow`` requests (and ``pipelineBodyBytes`` of their bodies) may wait for
/// answers at once, so the ingest requests of one pipelined burst reach the broker together and
/// share one commit group, as requests from different connections do. Answers are written in
/// request order: a reply that is ready early waits in ``PendingReplies`` behind earlier ones.
/// A request that takes the connection over (WebSocket, SSE) waits until every earlier answer is out.
final class HTTPSession: ConnectionHandler {
    let context: ServerContext
    let endpoints: Endpoints
    private var parser: HTTPRequestParser
    /// Answers not yet written, in request order.
    private var replies = PendingReplies()
    /// Body bytes of the requests whose answers are outstanding.
    private var outstandingBodyBytes = 0
    /// A request that needs the connection to itself, parsed while earlier answers were outstanding.
    private var deferred: HTTPRequest?
    /// No further request is read: an answer already queued closes the connection.
    private var closesAfterReplies = false
    /// Whether bytes of a request not yet complete have arrived (its deadline is running).
    private var inRequest = false
    /// What the admission check decided from the head of the request whose body is being read.
    private var admitted: RequestDecision?
    /// The peer closed its sending side: the requests already read are answered, then the
    /// connection closes.
    private var peerFinished = false
    /// A connection of the `--metrics-port` listener: only `/metrics` is served.
    private let servesMetricsOnly: Bool

    /// Most requests that may wait for an answer at once before the parser stops reading.
    static let pipelineWindow = 32
    /// Most body bytes of waiting requests before the parser stops reading (one request of any
    /// size is always taken when none waits).
    static let pipelineBodyBytes = 8 << 20

    init(context: ServerContext, servesMetricsOnly: Bool = false) {
        self.context = context
        self.servesMetricsOnly = servesMetricsOnly
        self.endpoints = Endpoints(context: context)
        self.parser = HTTPRequestParser(limits: context.routing.parserLimits)
    }

    private var requestDeadline: Int64 { Int64(context.configuration.requestTimeoutSeconds) * 1_000 }

    func connectionOpened(_ connection: Connection) {
        connection.setDeadline(connection.loop.now + requestDeadline)
    }

    /// Whether another request may be parsed now.
    private var acceptsAnotherRequest: Bool {
        deferred == nil && !closesAfterReplies
            && (replies.waitingCount == 0
                || (replies.waitingCount < Self.pipelineWindow && outstandingBodyBytes < Self.pipelineBodyBytes))
    }

    func connectionReceived(_ connection: Connection, _ bytes: UnsafeRawBufferPointer) -> Int {
        var offset = 0
        while offset < bytes.count && acceptsAnotherRequest && connection.isOpen && connection.handler === self
            && !connection.isOverOutboundSoftLimit
        {
            if !inRequest {
                // Deadlines run from a request's first byte (empty lines before it included) and
                // are never re-armed by later bytes of the same request.
                inRequest = true
                connection.setDeadline(connection.loop.now + requestDeadline)
            }
            let result = parser.parse(UnsafeRawBufferPointer(rebasing: bytes[offset...])) { head in
                let decision = servesMetricsOnly ? endpoints.decideOnMetricsListener(head) : endpoints.decide(head)
                admitted = decision
                return decision.admission
            }
            switch result {
            case .needMore(let consumed, let sendContinue):
                offset += consumed
                if sendContinue {
                    emit(HTTPResponseWriter.continueResponse, persist: true, on: connection)
                }
                return offset
            case .request(let request, let consumed):
                offset += consumed
                inRequest = false
                context.metrics.httpRequests.add(1, ordering: .relaxed)
                let decision =
                    admitted ?? (servesMetricsOnly ? endpoints.decideOnMetricsListener(request.head) : endpoints.decide(request.head))
                admitted = nil
                handle(request, decision, on: connection)
            case .refused(let head, _):
                inRequest = false
                context.metrics.httpRequests.add(1, ordering: .relaxed)
                if case .refuse(let error) = admitted {
                    respond(error.response, to: head, keepAlive: false, on: connection)
                }
                admitted = nil
                return bytes.count
            case .error(let error):
                respond(APIError.malformed(error).response, to: nil, keepAlive: false, on: connection)
                return bytes.count
            }
        }
        return offset
    }

    func connectionReadEnded(_ connection: Connection) {
        peerFinished = true
        if replies.isEmpty && deferred == nil { connection.close() }
    }

    func connectionDeadlinePassed(_ connection: Connection, now: Int64) {
        if inRequest && !parser.isIdle {
            inRequest = false
            respond(APIError.requestTimeout.response, to: nil, keepAlive: false, on: connection)
        } else if replies.isEmpty || inRequest {
            connection.close()
        } else {
            // Waiting for the broker, which always answers.
            connection.setDeadline(now + requestDeadline)
        }
    }

    /// Has the endpoints answer a complete request, unless it takes the connection over while
    /// earlier answers are outstanding (it waits for them in ``deferred``).
    private func handle(_ request: HTTPRequest, _ decision: RequestDecision, on connection: Connection) {
        if !request.head.keepAlive { closesAfterReplies = true }
        if case .route(let route, _, _) = decision, route.takesOverConnection, !replies.isEmpty {
            deferred = request
            return
        }
        perform(endpoints.reply(to: request, decision), to: request, on: connection)
    }

    /// Writes a response in its turn; keeps the connection for the next request unless told otherwise.
    func respond(_ response: HTTPResponse, to head: HTTPRequestHead?, keepAlive: Bool = true, on connection: Connection) {
        let (bytes, persist) = serialize(response, to: head, keepAlive: keepAlive, on: connection)
        emit(bytes, persist: persist, on: connection)
    }

    /// The response's wire bytes and whether the connection stays open after it.
    private func serialize(
        _ response: HTTPResponse, to head: HTTPRequestHead?, keepAlive: Bool, on connection: Connection
    ) -> (bytes: [UInt8], persist: Bool) {
        let persist = keepAlive && (head?.keepAlive ?? false) && !context.lifecycle.shutdown.isSet
        let bytes = HTTPResponseWriter.serialize(
            response, date: context.loops.state(of: connection.loop).dateHeader(), keepAlive: persist, headOnly: head?.method == "HEAD")
        return (bytes, persist)
    }

    /// Writes an answer now if nothing is before it, or queues it behind the outstanding ones.
    private func emit(_ bytes: [UInt8], persist: Bool, on connection: Connection) {
        if !persist { closesAfterReplies = true }
        if replies.isEmpty {
            write(bytes, persist: persist, on: connection)
        } else {
            replies.appendReady(bytes, persist: persist)
        }
    }

    private func write(_ bytes: [UInt8], persist: Bool, on connection: Connection) {
        connection.write(bytes)
        if !persist {
            replies.removeAll()
            connection.close()
        } else if replies.isEmpty && !inRequest {
            connection.setDeadline(connection.loop.now + Int64(context.configuration.keepAliveTimeoutSeconds) * 1_000)
        }
    }

    /// Reserves this request's place in the answer order; the returned function delivers the
    /// response from any thread.
    func respondLater(to head: HTTPRequestHead, bodyBytes: Int = 0, on connection: Connection) -> @Sendable (HTTPResponse) -> Void {
        let slot = reserveReply(bodyBytes: bodyBytes, on: connection)
        let loop = connection.loop
        let session = LoopBound(self, on: loop)
        let bound = LoopBound(connection, on: loop)
        return { response in
            loop.execute { session.value.finishReply(slot, response, to: head, on: bound.value) }
        }
    }

    /// Reserves a place in the answer order for a request answered on another thread.
    func reserveReply(bodyBytes: Int, on connection: Connection) -> PendingReplies.Slot {
        if replies.isEmpty && !inRequest { connection.setDeadline(nil) }
        outstandingBodyBytes += bodyBytes
        return replies.reserve(bodyBytes: bodyBytes)
    }

    /// Fills a reserved answer (on the loop), writes every answer now in turn, and reads on.
    func finishReply(_ slot: PendingReplies.Slot, _ response: HTTPResponse, to head: HTTPRequestHead, on connection: Connection) {
        guard connection.isOpen, connection.handler === self else { return }
        let (bytes, persist) = serialize(response, to: head, keepAlive: true, on: connection)
        if !persist { closesAfterReplies = true }
        outstandingBodyBytes -= replies.fill(slot, bytes, persist: persist)
        while let (ready, persists) = replies.popReady() {
            write(ready, persist: persists, on: connection)
            if !connection.isOpen { return }
        }
        if replies.isEmpty, let request = deferred {
            deferred = nil
            handle(request, endpoints.decide(request.head), on: connection)
        }
        if connection.isOpen { connection.resumeProcessing() }
        if peerFinished && replies.isEmpty && connection.isOpen && connection.handler === self { connection.close() }
    }

    /// Called at shutdown: idle keep-alive connections close now; busy ones after their response.
    func beginShutdown(_ connection: Connection) {
        if parser.isIdle && replies.isEmpty { connection.close() }
    }
}
