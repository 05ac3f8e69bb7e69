import HTTP1
import Reactor
import WebSocket

/// One HTTP/1.1 connection: parses requests in place, answers them in order (pipelining), and
/// hands the socket to a `WebSocketSession` after a successful Upgrade.
final class HTTPSession: ConnectionHandler {
    private let context: ServerContext
    private var parser: HTTPRequestParser

    init(context: ServerContext) {
        self.context = context
        self.parser = HTTPRequestParser(limits: context.parserLimits)
    }

    func connectionOpened(_ connection: Connection) {
        connection.setDeadline(connection.loop.now + Int64(context.configuration.requestTimeoutSeconds) * 1_000)
    }

    func connectionReceived(_ connection: Connection, _ bytes: UnsafeRawBufferPointer) -> Int {
        var offset = 0
        while offset < bytes.count && connection.isOpen && connection.handler === self {
            let wasIdle = parser.isIdle
            switch parser.parse(UnsafeRawBufferPointer(rebasing: bytes[offset...])) {
            case .needMore(let consumed, let sendContinue):
                offset += consumed
                if wasIdle {
                    // A request has started: it must complete within the request timeout.
                    connection.setDeadline(connection.loop.now + Int64(context.configuration.requestTimeoutSeconds) * 1_000)
                }
                if sendContinue {
                    connection.write(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
                }
                return offset
            case .request(let request, let consumed):
                offset += consumed
                handle(request, on: connection)
            case .error(let error):
                respond(
                    .jsonError(status: error.status, code: Self.errorCode(error.status), message: error.message),
                    to: nil, keepAlive: false, on: connection)
                return bytes.count
            }
        }
        return offset
    }

    func connectionDeadlinePassed(_ connection: Connection, now: Int64) {
        if parser.isIdle {
            connection.close()
        } else {
            respond(.jsonError(status: 408, code: "request_timeout", message: "request not completed in time"), to: nil, keepAlive: false, on: connection)
        }
    }

    private func handle(_ request: HTTPRequest, on connection: Connection) {
        let head = request.head
        switch context.router.match(method: head.method, path: head.path) {
        case .found(let route, _):
            handle(route, request, on: connection)
        case .methodNotAllowed(let allowed):
            var response = HTTPResponse.jsonError(status: 405, code: "method_not_allowed", message: "\(head.method) is not allowed on \(head.path)")
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

    private func handle(_ route: Route, _ request: HTTPRequest, on connection: Connection) {
        let head = request.head
        switch route {
        case .health:
            respond(.json(200, #"{"status":"ok"}"#), to: head, on: connection)
        case .ready:
            if context.shutdown.isSet {
                respond(.jsonError(status: 503, code: "shutting_down", message: "the server is stopping"), to: head, on: connection)
            } else {
                respond(.json(200, #"{"status":"ready"}"#), to: head, on: connection)
            }
        case .stream:
            upgrade(request, kind: .stream, options: context.streamOptions, on: connection)
        case .echo:
            upgrade(request, kind: .echo, options: context.echoOptions, on: connection)
        }
    }

    /// RFC 6455 §4.2.2: answers the opening handshake and switches the connection to WebSocket.
    private func upgrade(_ request: HTTPRequest, kind: WebSocketSession.Kind, options: WebSocketOptions, on connection: Connection) {
        let head = request.head
        if context.shutdown.isSet {
            respond(.jsonError(status: 503, code: "shutting_down", message: "the server is stopping"), to: head, keepAlive: false, on: connection)
            return
        }
        guard head.isUpgradeRequest else {
            var response = HTTPResponse.jsonError(status: 426, code: "upgrade_required", message: "this endpoint speaks WebSocket only")
            response.headers.add("Upgrade", "websocket")
            respond(response, to: head, on: connection)
            return
        }
        let pairs = head.headers.pairs.map { (name: $0.name, value: $0.value) }
        switch WebSocketHandshake.negotiate(method: head.method, versionMinor: head.version.minor, headers: pairs, options: options) {
        case .failure(let failure):
            var response = HTTPResponse.jsonError(status: failure.status, code: "bad_handshake", message: failure.message)
            for (name, value) in failure.headers { response.headers.add(name, value) }
            respond(response, to: head, on: connection)
        case .success(let accepted):
            if !context.configuration.allowedOrigins.isEmpty,
                !context.configuration.allowedOrigins.contains(accepted.origin ?? "")
            {
                respond(.jsonError(status: 403, code: "origin_not_allowed", message: "origin not allowed"), to: head, keepAlive: false, on: connection)
                return
            }
            connection.write(accepted.responseBytes())
            let session = WebSocketSession(
                kind: kind, context: context, options: options, deflate: accepted.deflate, query: head.queryItems())
            connection.handler = session
            session.start(on: connection)
        }
    }

    private func respond(_ response: HTTPResponse, to head: HTTPRequestHead?, keepAlive: Bool = true, on connection: Connection) {
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

    /// Called at shutdown: idle keep-alive connections close now; busy ones after their response.
    func beginShutdown(_ connection: Connection) {
        if parser.isIdle { connection.close() }
    }

    private static func errorCode(_ status: Int) -> String {
        switch status {
        case 400: "bad_request"
        case 413: "payload_too_large"
        case 431: "request_header_fields_too_large"
        case 501: "not_implemented"
        case 505: "http_version_not_supported"
        default: "error"
        }
    }
}
