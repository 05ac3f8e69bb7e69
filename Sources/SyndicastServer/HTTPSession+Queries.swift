import Basics
import Broker
import HTTP1
import Monitor
import Reactor

extension HTTPSession {
    /// Read-only API routes: answered by the broker (in order with writes queued before them).
    func query(_ route: Route, _ head: HTTPRequestHead, parameters: [String: String], on connection: Connection) {
        var limit = route == .alerts ? 100 : 5
        if let text = head.queryItem("limit") {
            guard let value = Int(text), (1...1_000).contains(value) else {
                respond(
                    .jsonError(status: 400, code: "invalid_limit", message: "limit must be an integer from 1 to 1000"), to: head,
                    on: connection)
                return
            }
            // The rankings answer from the maintained top K (O(K) on the broker); a larger limit
            // would select from every investor.
            limit = route == .rankings ? min(value, context.configuration.monitor.topK) : value
        }
        let identifier = parameters["id"] ?? ""
        let chosenLimit = limit
        let reply = respondLater(to: head, on: connection)
        let context = self.context
        connection.loop.server.flushIngest(context: context, loop: connection.loop)
        let connections = context.counters.streamSubscribers
        context.broker.query { broker in
            reply(
                Self.answer(route, broker: broker, limit: chosenLimit, identifier: identifier, context: context, subscribers: connections))
        }
    }

    private static func answer(
        _ route: Route, broker: isolated Broker, limit: Int, identifier: String, context: ServerContext, subscribers: Int
    ) -> HTTPResponse {
        let monitor = broker.state
        var writer = JSONWriter(capacity: 512)
        switch route {
        case .rankings:
            writer.appendRaw("{\"seq\":")
            writer.appendInteger(Int64(truncatingIfNeeded: broker.currentSeq))
            writer.appendRaw(",\"top\":")
            writer.appendArray(monitor.rankings(limit: limit))
            writer.appendRaw("}")
        case .alerts:
            writer.appendRaw("{\"seq\":")
            writer.appendInteger(Int64(truncatingIfNeeded: broker.currentSeq))
            writer.appendRaw(",\"alerts\":")
            writer.appendArray(monitor.recentAlerts(limit: limit))
            writer.appendRaw("}")
        case .investor:
            guard let summary = monitor.investor(identifier) else {
                return .jsonError(status: 404, code: "not_found", message: "no investor \(identifier)")
            }
            writer.append(summary)
        case .syndicate:
            guard let summary = monitor.syndicate(identifier) else {
                return .jsonError(status: 404, code: "not_found", message: "no syndicate \(identifier)")
            }
            writer.append(summary)
        case .stats:
            return .json(200, bytes: broker.statisticsJSON(connections: subscribers))
        case .metrics:
            let text = context.metrics.render(
                openConnections: context.openConnections(), streamSubscribers: subscribers, seq: broker.currentSeq,
                holdings: broker.holdings)
            return .text(200, text, headers: HTTPHeaders([("Content-Type", "text/plain; version=0.0.4; charset=utf-8")]))
        default:
            return .jsonError(status: 500, code: "internal", message: "unexpected route")
        }
        return .json(200, bytes: writer.bytes)
    }
}
