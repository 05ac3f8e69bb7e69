import Broker
import HTTP1

extension Endpoints {
    /// `GET /metrics`: the Prometheus text exposition, taken on the broker's thread (holdings,
    /// sequence, resumes and alerts are the broker's plain integers).
    static func metricsResponse(broker: isolated MessageBroker, context: ServerContext) -> HTTPResponse {
        let counters = context.counters
        let serverSent = counters.serverSentSubscribers
        let sample = ServerMetrics.Sample(
            openConnections: context.loops.openConnections(),
            webSocketSubscribers: max(0, counters.streamSubscribers - serverSent), serverSentSubscribers: serverSent,
            seq: broker.currentSeq, holdings: broker.holdings, brokerCounts: broker.eventCounts)
        context.cluster?.publishMetrics(broker.clusterStatistics)
        return HTTPResponse(
            status: 200, headers: HTTPHeaders([("Content-Type", "text/plain; version=0.0.4; charset=utf-8")]),
            body: context.metrics.exposition(sample))
    }

    /// What a connection of the `--metrics-port` listener may ask: `GET /metrics` (and HEAD), nothing else.
    func decideOnMetricsListener(_ head: HTTPRequestHead) -> RequestDecision {
        guard head.path == "/metrics" else { return .refuse(.notFound("no such resource: \(head.path)")) }
        guard head.method == "GET" || head.method == "HEAD" else {
            return .refuse(.methodNotAllowed(method: head.method, path: head.path, allowed: ["GET", "HEAD"]))
        }
        return .route(.metrics, parameters: [:], bodyLimit: RouteLimits.queryBodyBytes)
    }
}
