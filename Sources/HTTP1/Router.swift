/// A small method-and-path router with path parameters, e.g. `"/api/investors/{id}"`.
///
/// Pattern segments are literals, `{name}` (one segment) or a final `{name...}` (the rest of the
/// path, possibly empty). Parameter values are percent-decoded; a value that does not decode makes
/// the route not match. When several patterns match, the most specific wins: segment by segment,
/// a literal beats a parameter, which beats a rest parameter. `HEAD` falls back to `GET` routes
/// (RFC 9110 §9.3.2).
public struct Router<Handler: Sendable>: Sendable {
    /// One parsed pattern segment.
    @usableFromInline
    enum Segment: Sendable, Equatable {
        case literal(Substring)
        case parameter(String)
        case rest(String)

        var specificity: Int {
            switch self {
            case .literal: return 2
            case .parameter: return 1
            case .rest: return 0
            }
        }
    }

    /// A registered route.
    @usableFromInline
    struct Route: Sendable {
        @usableFromInline var method: String
        @usableFromInline var pattern: String
        @usableFromInline var segments: [Segment]
        @usableFromInline var handler: Handler
    }

    @usableFromInline var routes: [Route] = []
    /// Literal-only patterns by path: most requests are answered by one hash lookup instead of
    /// binding every pattern (measured: a full scan is ~10% of a loop's time under `wrk` load).
    @usableFromInline var exactRoutes: [String: [Route]] = [:]

    /// Creates an empty router.
    public init() {}

    /// Registers `handler` for `method` (case-sensitive, RFC 9110 §9.1) and `pattern`. A later
    /// registration of the same method and pattern replaces the earlier one.
    public mutating func add(_ method: String, _ pattern: String, _ handler: Handler) {
        let segments = Self.split(pattern).map { segment -> Segment in
            if segment.hasPrefix("{"), segment.hasSuffix("...}") {
                return .rest(String(segment.dropFirst().dropLast(4)))
            }
            if segment.hasPrefix("{"), segment.hasSuffix("}") {
                return .parameter(String(segment.dropFirst().dropLast()))
            }
            return .literal(segment)
        }
        let route = Route(method: method, pattern: pattern, segments: segments, handler: handler)
        if let index = routes.firstIndex(where: { $0.method == method && $0.segments == segments }) {
            routes[index] = route
        } else {
            routes.append(route)
        }
        if segments.allSatisfy({ if case .literal = $0 { true } else { false } }) {
            var list = exactRoutes[Self.canonical(pattern)] ?? []
            list.removeAll { $0.method == method }
            list.append(route)
            exactRoutes[Self.canonical(pattern)] = list
        }
    }

    /// A literal pattern as the path it matches ("/a/b").
    static func canonical(_ pattern: String) -> String {
        pattern.hasPrefix("/") ? pattern : "/" + pattern
    }

    /// Finds the handler for `method` and the raw (not yet decoded) `path`.
    ///
    /// Returns `.methodNotAllowed` with the methods the path does accept (for the `Allow` header
    /// of a 405, RFC 9110 §15.5.6) when the path matches but the method does not.
    ///
    /// Inlinable so it is specialized for the caller's `Handler`: unspecialized, each call paid
    /// for generic metadata lookups (~6% of a loop's time under single-POST ingest).
    @inlinable
    public func match(method: String, path: String) -> RouteMatch<Handler> {
        // A literal route beats any parameter route on the same path, so an exact hit for the
        // method (or GET for HEAD) is the answer.
        if let candidates = exactRoutes[path] {
            if let route = candidates.first(where: { $0.method == method })
                ?? (method == "HEAD" ? candidates.first(where: { $0.method == "GET" }) : nil)
            {
                return .found(route.handler, parameters: [:])
            }
        }
        let pathSegments = Self.split(path)
        var best: (route: Route, parameters: [String: String])?
        var bestFallback: (route: Route, parameters: [String: String])?
        var allowed: [String] = []
        for route in routes {
            guard let parameters = Self.bind(route.segments, to: pathSegments) else { continue }
            if !allowed.contains(route.method) { allowed.append(route.method) }
            if route.method == method {
                if best.map({ Self.isMoreSpecific(route, than: $0.route) }) ?? true { best = (route, parameters) }
            } else if method == "HEAD", route.method == "GET" {
                if bestFallback.map({ Self.isMoreSpecific(route, than: $0.route) }) ?? true { bestFallback = (route, parameters) }
            }
        }
        if let found = best ?? bestFallback { return .found(found.route.handler, parameters: found.parameters) }
        if allowed.isEmpty { return .notFound }
        if allowed.contains("GET"), !allowed.contains("HEAD") { allowed.append("HEAD") }
        return .methodNotAllowed(allowed: allowed.sorted())
    }

    /// The path's segments after the leading `/`; empty segments are kept.
    @usableFromInline
    static func split(_ path: String) -> [Substring] {
        var trimmed = Substring(path)
        if trimmed.hasPrefix("/") { trimmed = trimmed.dropFirst() }
        return trimmed.split(separator: "/", omittingEmptySubsequences: false)
    }

    /// The parameters binding `pattern` to `path`, or nil when it does not match.
    @usableFromInline
    static func bind(_ pattern: [Segment], to path: [Substring]) -> [String: String]? {
        var parameters: [String: String] = [:]
        for (index, segment) in pattern.enumerated() {
            switch segment {
            case .literal(let literal):
                guard index < path.count, path[index] == literal else { return nil }
            case .parameter(let name):
                guard index < path.count, !path[index].isEmpty,
                    let value = PercentDecoding.decode(String(path[index]), plusAsSpace: false)
                else { return nil }
                parameters[name] = value
            case .rest(let name):
                let rest = path[min(index, path.count)...].joined(separator: "/")
                guard let value = PercentDecoding.decode(rest, plusAsSpace: false) else { return nil }
                parameters[name] = value
                return parameters
            }
        }
        return pattern.count == path.count ? parameters : nil
    }

    /// Whether `route` should win over `other` when both match.
    @usableFromInline
    static func isMoreSpecific(_ route: Route, than other: Route) -> Bool {
        for (left, right) in zip(route.segments, other.segments) where left.specificity != right.specificity {
            return left.specificity > right.specificity
        }
        return route.segments.count > other.segments.count
    }
}

/// The result of ``Router/match(method:path:)``.
public enum RouteMatch<Handler> {
    /// A route matched; `parameters` holds the decoded path parameters.
    case found(Handler, parameters: [String: String])
    /// The path exists but not for this method; `allowed` lists the methods that do match.
    case methodNotAllowed(allowed: [String])
    /// No route has this path.
    case notFound
}

extension RouteMatch: Sendable where Handler: Sendable {}
