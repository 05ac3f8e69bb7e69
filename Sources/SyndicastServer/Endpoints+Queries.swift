import Basics
import Broker
import HTTP1
import Monitor

extension Endpoints {
    /// Read-only API routes: answered by the broker (in order with writes queued before them).
    func query(_ route: Route, _ head: HTTPRequestHead, parameters: [String: String]) -> EndpointReply {
        var limit = route == .alerts ? 100 : 5
        if let text = head.queryItem("limit") {
            guard let value = Int(text), (1...1_000).contains(value) else { return .failure(.invalidLimit) }
            // The rankings answer from the maintained top K (O(K) on the broker); a larger limit
            // would select from every investor.
            limit = route == .rankings ? min(value, context.configuration.monitor.topK) : value
        }
        let identifier = parameters["id"] ?? ""
        let chosenLimit = limit
        let context = self.context
        return .broker { reply in
            let subscribers = context.counters.streamSubscribers
            context.broker.query { broker in
                reply(
                    Self.answer(
                        route, broker: broker, limit: chosenLimit, identifier: identifier, context: context, subscribers: subscribers))
            }
        }
    }

    private static func answer(
        _ route: Route, broker: isolated MessageBroker, limit: Int, identifier: String, context: ServerContext, subscribers: Int
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
                return APIError.notFound("no investor \(identifier)").response
            }
            writer.append(summary)
        case .syndicate:
            guard let summary = monitor.syndicate(identifier) else {
                return APIError.notFound("no syndicate \(identifier)").response
            }
            writer.append(summary)
        case .stats:
            var body = broker.statisticsJSON(connections: subscribers)
            if let cluster = context.cluster, body.last == UInt8(ascii: "}") {
                // Cluster mode: the shared log's figures as one more member.
                body.removeLast()
                body += #","cluster":"#.utf8
                body += cluster.statisticsJSON(broker.clusterStatistics, position: broker.appliedPosition)
                body.append(UInt8(ascii: "}"))
            }
            return .json(200, bytes: body)
        case .metrics:
            return metricsResponse(broker: broker, context: context)
        default:
            return APIError.internalError("unexpected route").response
        }
        return .json(200, bytes: writer.bytes)
    }
}
