import HTTP1

/// What the server does for a matched path. An enum, not closures: the session switches on it
/// directly on the loop thread.
enum Route: Sendable {
    case health
    case ready
    case metrics
    case stream
    case events
    case echo
    case broadcast
    case ingest
    case publish
    case rankings
    case alerts
    case investor
    case syndicate
    case stats
}

extension Route {
    /// The route table of DESIGN.md §3; other GET paths fall through to the static files.
    /// `metrics`: serve `/metrics` here (not when it has a listener of its own, `--metrics-port`).
    static func table(echo: Bool, broadcast: Bool, metrics: Bool = true) -> Router<Route> {
        var router = Router<Route>()
        router.add("GET", "/healthz", .health)
        router.add("GET", "/readyz", .ready)
        if metrics {
            router.add("GET", "/metrics", .metrics)
        }
        router.add("GET", "/ws", .stream)
        router.add("GET", "/events", .events)
        router.add("POST", "/api/transactions", .ingest)
        router.add("POST", "/api/publish", .publish)
        router.add("GET", "/api/rankings", .rankings)
        router.add("GET", "/api/alerts", .alerts)
        router.add("GET", "/api/investors/{id}", .investor)
        router.add("GET", "/api/syndicates/{id}", .syndicate)
        router.add("GET", "/api/stats", .stats)
        if echo {
            router.add("GET", "/echo", .echo)
        }
        if broadcast {
            router.add("GET", "/broadcast", .broadcast)
        }
        return router
    }
}
