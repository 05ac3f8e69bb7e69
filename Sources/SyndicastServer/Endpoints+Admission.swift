import HTTP1

/// What the server does with a request, decided from its head alone (DESIGN.md §6: limits and
/// refusals are decided before a body is read or parsed).
enum RequestDecision {
    /// Answer with this error; a body the request announced is never read.
    case refuse(APIError)
    /// Serve a dashboard file (GET or HEAD).
    case staticFile
    /// Run a route, reading a body of at most `bodyLimit` bytes.
    case route(Route, parameters: [String: String], bodyLimit: Int)

    /// The parser's instruction for the body.
    var admission: HTTPRequestAdmission {
        switch self {
        case .refuse: .refuse
        case .staticFile: .accept(maxBodySize: RouteLimits.queryBodyBytes)
        case .route(_, _, let limit): .accept(maxBodySize: limit)
        }
    }
}

/// Body limits per route kind.
enum RouteLimits {
    /// Bodies of requests that do not expect one (GET routes, static files) are read and dropped up
    /// to this size.
    static let queryBodyBytes = 1_024
    /// `/api/publish`: the message envelope around at most ``PublishRequest/maximumDataBytes`` of data.
    static let publishBodyBytes = 64 * 1_024
}

extension Endpoints {
    /// Methods of RFC 9110 §9.3 (and PATCH, RFC 5789); any other gets 501.
    static let knownMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]

    /// Decides a request from its head: host, method, route, origin, authentication, media type
    /// and body limit, in that order.
    func decide(_ head: HTTPRequestHead) -> RequestDecision {
        guard context.routing.policy.acceptsHost(head) else { return .refuse(.hostNotAllowed) }
        guard Self.knownMethods.contains(head.method) else { return .refuse(.notImplemented(method: head.method)) }
        switch context.routing.router.match(method: head.method, path: head.path) {
        case .found(let route, let parameters):
            return decide(route, parameters: parameters, head: head)
        case .methodNotAllowed(let allowed):
            return .refuse(.methodNotAllowed(method: head.method, path: head.path, allowed: allowed))
        case .notFound:
            guard head.method == "GET" || head.method == "HEAD" else {
                return .refuse(.methodNotAllowed(method: head.method, path: head.path, allowed: ["GET", "HEAD"]))
            }
            return .staticFile
        }
    }

    private func decide(_ route: Route, parameters: [String: String], head: HTTPRequestHead) -> RequestDecision {
        // Browsers attach Origin to cross-origin writes and to every WebSocket handshake; a page
        // elsewhere must neither write nor read the stream.
        if route.isWrite || route.takesOverConnection, !context.routing.policy.acceptsOrigin(head) {
            return .refuse(.originNotAllowed)
        }
        guard route.isWrite else {
            return .route(route, parameters: parameters, bodyLimit: RouteLimits.queryBodyBytes)
        }
        switch context.routing.policy.authorization(head, needs: route.requiredScope) {
        case .allowed: break
        case .unauthorized: return .refuse(.unauthorized)
        case .insufficientScope: return .refuse(.insufficientScope(route.requiredScope))
        }
        if context.lifecycle.shutdown.isSet { return .refuse(.shuttingDown) }
        let mediaType = MediaType.of(head)
        switch route {
        case .ingest:
            guard TransactionMediaType(mediaType) != nil else {
                return .refuse(.unsupportedMediaType(mediaType, accepted: "application/json or application/x-ndjson"))
            }
            return .route(route, parameters: parameters, bodyLimit: context.routing.parserLimits.maxBodySize)
        default:
            guard mediaType == "application/json" else {
                return .refuse(.unsupportedMediaType(mediaType, accepted: "application/json"))
            }
            return .route(route, parameters: parameters, bodyLimit: RouteLimits.publishBodyBytes)
        }
    }
}

/// The body formats ingest accepts, by media type.
enum TransactionMediaType {
    case json
    case ndjson

    init?(_ mediaType: String) {
        switch mediaType {
        case "application/json": self = .json
        case "application/x-ndjson", "application/ndjson", "application/jsonl": self = .ndjson
        default: return nil
        }
    }
}

extension Route {
    /// Routes that store something (authentication, media type and Origin are checked).
    var isWrite: Bool { self == .ingest || self == .publish }

    /// The scope an API key needs for this write route: `ingest` and `publish` for theirs, `admin`
    /// for any other (admin endpoints), which a key with `admin` alone has.
    var requiredScope: APIKeyScopes {
        switch self {
        case .ingest: .ingest
        case .publish: .publish
        default: .admin
        }
    }

    /// Routes that switch the connection to a stream (it waits for earlier pipelined answers).
    var takesOverConnection: Bool {
        switch self {
        case .stream, .events, .echo, .broadcast: true
        default: false
        }
    }
}
