import HTTP1

/// What the server does for a matched path. An enum, not closures: the session switches on it
/// directly on the loop thread.
enum Route: Sendable {
    case health
    case ready
    case stream
    case echo
}

extension Route {
    /// The route table of DESIGN.md §3 (the API routes arrive with the ingest issue).
    static func table(echo: Bool) -> Router<Route> {
        var router = Router<Route>()
        router.add("GET", "/healthz", .health)
        router.add("GET", "/readyz", .ready)
        router.add("GET", "/ws", .stream)
        if echo {
            router.add("GET", "/echo", .echo)
        }
        return router
    }
}
