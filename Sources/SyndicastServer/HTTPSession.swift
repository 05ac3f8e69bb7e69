import HTTP1
import Reactor
import WebSocket

/// One HTTP/1.1 connection: parses requests in place, answers them in order (pipelining), and
/// hands the socket to a WebSocket or SSE session when a request switches protocols.
///
/// A request answered by the broker (ingest, queries) parks the session: it consumes nothing
/// more until the answer comes back through the loop's mailbox, so pipelined responses stay in
/// order; the reactor keeps (bounded) the bytes that arrive meanwhile.
final class HTTPSession: ConnectionHandler {
    let context: ServerContext
    private var parser: HTTPRequestParser
    /// The request waiting for an answer from another thread, if any.
    private(set) var awaiting: HTTPRequestHead?

    init(context: ServerContext) {
        self.context = context
        self.parser = HTTPRequestParser(limits: context.parserLimits)
    }

    private var requestDeadline: Int64 { Int64(context.configuration.requestTimeoutSeconds) * 1_000 }

    func connectionOpened(_ connection: Connection) {
        connection.setDeadline(connection.loop.now + requestDeadline)
    }

    func connectionReceived(_ connection: Connection, _ bytes: UnsafeRawBufferPointer) -> Int {
        var offset = 0
        while offset < bytes.count && awaiting == nil && connection.isOpen && connection.handler === self {
            let wasIdle = parser.isIdle
            switch parser.parse(UnsafeRawBufferPointer(rebasing: bytes[offset...])) {
            case .needMore(let consumed, let sendContinue):
                offset += consumed
                if wasIdle {
                    // A request has started: it must complete within the request timeout.
                    connection.setDeadline(connection.loop.now + requestDeadline)
                }
                if sendContinue {
                    connection.write(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
                }
                return offset
            case .request(let request, let consumed):
                offset += consumed
                context.metrics.httpRequests.add(1, ordering: .relaxed)
                handle(request, on: connection)
            case .error(let error):
                respond(.parseError(error), to: nil, keepAlive: false, on: connection)
                return bytes.count
            }
        }
        return offset
    }

    func connectionDeadlinePassed(_ connection: Connection, now: Int64) {
        if awaiting != nil {
            connection.setDeadline(now + requestDeadline)
        } else if parser.isIdle {
            connection.close()
        } else {
            respond(
                .jsonError(status: 408, code: "request_timeout", message: "request not completed in time"), to: nil, keepAlive: false,
                on: connection)
        }
    }

    private func handle(_ request: HTTPRequest, on connection: Connection) {
        let head = request.head
        switch context.router.match(method: head.method, path: head.path) {
        case .found(let route, let parameters):
            handle(route, request, parameters: parameters, on: connection)
        case .methodNotAllowed(let allowed):
            var response = HTTPResponse.jsonError(
                status: 405, code: "method_not_allowed", message: "\(head.method) is not allowed on \(head.path)")
            response.headers.add("Allow", allowed.joined(separator: ", "))
            respond(response, to: head, on: connection)
        case .notFound:
            if let response = context.staticFiles.response(for: head) {
                respond(response, to: head, on: connection)
            } else {
                respond(.jsonError(status: 404, code: "not_found", message: "no such resource: \(head.path)"), to: head, on: connection)
            }
        }
    }

    /// Writes a response now; keeps the connection for the next request unless told otherwise.
    func respond(_ response: HTTPResponse, to head: HTTPRequestHead?, keepAlive: Bool = true, on connection: Connection) {
        let persist = keepAlive && (head?.keepAlive ?? false) && !context.shutdown.isSet
        let bytes = HTTPResponseWriter.serialize(
            response, date: connection.loop.server.dateHeader(), keepAlive: persist, headOnly: head?.method == "HEAD")
        connection.write(bytes)
        if persist {
            connection.setDeadline(connection.loop.now + Int64(context.configuration.keepAliveTimeoutSeconds) * 1_000)
        } else {
            connection.close()
        }
    }

    /// Parks the session until the returned function delivers the response (from any thread).
    func respondLater(to head: HTTPRequestHead, on connection: Connection) -> @Sendable (HTTPResponse) -> Void {
        park(head, on: connection)
        let session = LoopBound(self)
        let bound = LoopBound(connection)
        let loop = connection.loop
        return { response in
            loop.execute { session.value.finishAwaiting(response, on: bound.value) }
        }
    }

    /// Stops consuming input until `finishAwaiting` answers `head`.
    func park(_ head: HTTPRequestHead, on connection: Connection) {
        awaiting = head
        connection.setDeadline(nil)
    }

    /// Answers the parked request and resumes with any pipelined input (on the loop).
    func finishAwaiting(_ response: HTTPResponse, on connection: Connection) {
        guard let head = awaiting, connection.isOpen, connection.handler === self else { return }
        awaiting = nil
        respond(response, to: head, on: connection)
        if connection.isOpen {
            connection.resumeProcessing()
        }
    }

    /// Called at shutdown: idle keep-alive connections close now; busy ones after their response.
    func beginShutdown(_ connection: Connection) {
        if parser.isIdle && awaiting == nil { connection.close() }
    }
}
