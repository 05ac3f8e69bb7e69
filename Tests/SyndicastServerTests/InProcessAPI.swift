import Broker
import HTTP1
import Monitor
import Synchronization

@testable import SyndicastServer

/// The HTTP API in process: ``Endpoints`` over a real broker with an in-memory journal, no event
/// loop and no socket. ``send(_:_:headers:body:)`` runs what the connection driver runs for one
/// request (decide from the head, answer, let the broker finish deferred work) and returns the
/// response the driver would write.
final class InProcessAPI: Sendable {
    let context: ServerContext
    let endpoints: Endpoints
    let shutdown = ShutdownFlag()
    /// Entries the broker asked the journal to store.
    let journal = JournalCount()

    init(configure: (inout ServerConfiguration) -> Void = { _ in }) {
        var configuration = ServerConfiguration()
        configuration.dataDirectory = nil
        configuration.staticDirectory = "/nonexistent-syndicast-static"
        configure(&configuration)
        let journal = self.journal
        let broker = MessageBroker(
            monitor: TransactionMonitor(configuration: configuration.monitor), epoch: "e1", configuration: configuration.broker
        ) {
            entries in journal.entries.add(entries.count, ordering: .relaxed)
        }
        context = ServerContext(configuration: configuration, broker: broker, shutdown: shutdown)
        context.lifecycle.ready.store(true, ordering: .relaxed)
        endpoints = Endpoints(context: context)
    }

    /// What the endpoints answered: a response, or a switch to a stream.
    enum Answer {
        case response(HTTPResponse)
        case webSocket(WebSocketUpgrade)
        case serverSentEvents(StreamParameters)

        var response: HTTPResponse? {
            if case .response(let response) = self { return response }
            return nil
        }
        var status: Int { response?.status ?? 101 }
        var text: String { String(decoding: response?.body ?? [], as: UTF8.self) }
        func header(_ name: String) -> String? { response?.headers[name] }
    }

    /// Sends one request with `Host: 127.0.0.1` unless `headers` names a Host.
    func send(_ method: String, _ target: String, headers: [(String, String)] = [], body: String = "") async -> Answer {
        var fields = headers
        if !fields.contains(where: { $0.0.lowercased() == "host" }) { fields.insert(("Host", "127.0.0.1"), at: 0) }
        let request = HTTPRequest(
            head: HTTPRequestHead(method: method, target: target, headers: HTTPHeaders(fields)), body: Array(body.utf8))
        return await answer(request)
    }

    func answer(_ request: HTTPRequest) async -> Answer {
        let decision = endpoints.decide(request.head)
        switch endpoints.reply(to: request, decision) {
        case .response(let response):
            return .response(response)
        case .failure(let error, _):
            return .response(error.response)
        case .ingest(let transactions):
            let outcome = await withCheckedContinuation { continuation in
                context.broker.ingest(transactions) { continuation.resume(returning: $0) }
            }
            return .response(endpoints.completeIngest(count: transactions.count, outcome))
        case .broker(let submit):
            return .response(await withCheckedContinuation { continuation in submit { continuation.resume(returning: $0) } })
        case .webSocket(let upgrade):
            return .webSocket(upgrade)
        case .serverSentEvents(let stream):
            return .serverSentEvents(stream)
        }
    }
}

/// The JSON of one transaction for an ingest body.
func transactionJSON(_ id: String, investor: String = "i1", syndicate: String = "s1", amount: String = "10.00") -> String {
    #"{"id":"\#(id)","investorId":"\#(investor)","syndicateId":"\#(syndicate)","amount":"\#(amount)"}"#
}

let jsonBody = [("Content-Type", "application/json")]

/// Counts journal entries.
final class JournalCount: Sendable {
    let entries = Atomic<Int>(0)
    var count: Int { entries.load(ordering: .relaxed) }
}
