import Broker
import HTTP1
import Monitor
import WebSocket

/// The HTTP API's endpoints: each maps a request (its head, its body and what ``decide(_:)``
/// concluded from the head with ``RequestPolicy``) to an ``EndpointReply``, as Hummingbird's
/// responder maps a request to a response. They hold no connection and open no socket:
/// ``HTTPSession`` (the connection driver) parses, keeps requests in order and writes what they
/// return, and the endpoint tests call them in process.
struct Endpoints: Sendable {
    let context: ServerContext

    /// Answers a complete request that ``decide(_:)`` admitted with `decision`.
    func reply(to request: HTTPRequest, _ decision: RequestDecision) -> EndpointReply {
        let head = request.head
        switch decision {
        case .refuse(let error):
            return .failure(error)
        case .staticFile:
            guard let response = context.routing.staticFiles.response(for: head) else {
                return .failure(.notFound("no such resource: \(head.path)"))
            }
            return .response(response)
        case .route(let route, let parameters, _):
            return reply(route, to: request, parameters: parameters)
        }
    }

    private func reply(_ route: Route, to request: HTTPRequest, parameters: [String: String]) -> EndpointReply {
        let head = request.head
        switch route {
        case .health:
            return .response(.json(200, #"{"status":"ok"}"#))
        case .ready:
            return readiness()
        case .stream:
            return webSocket(head, kind: .stream, options: context.webSocketOptions.stream)
        case .echo:
            return webSocket(head, kind: .echo, options: context.webSocketOptions.echo)
        case .broadcast:
            return webSocket(head, kind: .broadcast, options: context.webSocketOptions.broadcast)
        case .events where head.method == "HEAD":
            // The head a GET would get, without the stream (RFC 9110 §9.3.2).
            var response = HTTPResponse.text(200, "")
            response.headers = HTTPHeaders([("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache")])
            return .response(response)
        case .events:
            return serverSentEvents(head)
        case .ingest:
            return ingest(request)
        case .publish:
            return publish(request)
        case .rankings, .alerts, .investor, .syndicate, .stats, .metrics:
            return query(route, head, parameters: parameters)
        }
    }

    /// `/readyz`: 200 once the journal is replayed (cluster mode: the shared log read up to where it
    /// ended at start), 503 while starting, stopping or failed.
    private func readiness() -> EndpointReply {
        let lifecycle = context.lifecycle
        if lifecycle.shutdown.isSet { return .failure(.shuttingDown) }
        if !lifecycle.ready.load(ordering: .relaxed) { return .failure(context.cluster == nil ? .starting : .catchingUp) }
        if let failure = lifecycle.ingestFailure.withLock({ $0 }) { return .failure(.journalFailed(failure)) }
        return .response(.json(200, #"{"status":"ready"}"#))
    }
}

/// What an endpoint answers: a response now, work the broker answers later, or a switch of the
/// connection to a stream.
enum EndpointReply {
    /// Write this response in the request's turn.
    case response(HTTPResponse)
    /// Write this error in the request's turn; `closes`: the connection closes after it.
    case failure(APIError, closes: Bool = false)
    /// Hand these transactions (already counted in ``ServerContext/inFlightTransactions``) to the
    /// broker; its outcome becomes the response through ``Endpoints/completeIngest(count:_:)``.
    case ingest([Transaction])
    /// Work the broker answers (publish, queries); `submit` calls its argument once, on the
    /// broker's thread, with the response.
    case broker(submit: @Sendable (_ reply: @escaping @Sendable (HTTPResponse) -> Void) -> Void)
    /// Switch to WebSocket: write the 101 response and start a session of this kind.
    case webSocket(WebSocketUpgrade)
    /// Switch to Server-Sent Events with this subscription.
    case serverSentEvents(StreamParameters)
}

/// An accepted WebSocket handshake and what the session starts with.
struct WebSocketUpgrade {
    let kind: WebSocketSession.Kind
    let options: WebSocketOptions
    let accepted: WebSocketHandshakeAccepted
    let stream: StreamParameters
}

/// A stream's subscription: its topics and where a resume starts.
struct StreamParameters: Equatable {
    var topics: Set<String>
    var since: UInt64?
    var epoch: String?
    /// What the stream token allows (`--stream-token-secret`); nil without a secret.
    var grant: StreamGrant? = nil
}
