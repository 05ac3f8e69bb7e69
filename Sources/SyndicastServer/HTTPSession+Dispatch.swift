import Broker
import HTTP1
import Reactor
import WebSocket

extension HTTPSession {
    /// Carries out an endpoint's reply on this connection: writes a response in its turn, parks
    /// the request's place while the broker answers, or hands the connection to a stream session.
    func perform(_ reply: EndpointReply, to request: HTTPRequest, on connection: Connection) {
        let head = request.head
        switch reply {
        case .response(let response):
            respond(response, to: head, on: connection)
        case .failure(let error, let closes):
            respond(error.response, to: head, keepAlive: !closes, on: connection)
        case .ingest(let transactions):
            let slot = reserveReply(bodyBytes: request.body.count, on: connection)
            let token = PendingIngest(session: self, connection: connection, head: head, slot: slot, count: transactions.count)
            context.loops.state(of: connection.loop).queueIngest(transactions, token: token, broker: context.broker)
        case .broker(let submit):
            let answer = respondLater(to: head, bodyBytes: request.body.count, on: connection)
            // Ingest requests this loop parsed before this one reach the broker first.
            context.loops.state(of: connection.loop).flushIngest(broker: context.broker)
            submit(answer)
        case .webSocket(let upgrade):
            connection.write(upgrade.accepted.responseBytes())
            context.metrics.webSocketsOpened.add(1, ordering: .relaxed)
            let session = WebSocketSession(
                kind: upgrade.kind, connection: connection, context: context, options: upgrade.options,
                deflate: upgrade.accepted.deflate, topics: upgrade.stream.topics, grant: upgrade.stream.grant)
            connection.handler = session
            session.start(since: upgrade.stream.since, epoch: upgrade.stream.epoch)
        case .serverSentEvents(let stream):
            let session = ServerSentEventsSession(connection: connection, context: context, topics: stream.topics, grant: stream.grant)
            connection.handler = session
            session.start(since: stream.since, epoch: stream.epoch)
        }
    }
}
