import Broker
import Glibc
import HTTP1
import Monitor
import Reactor
import Synchronization
import WebSocket

/// What every session needs and nobody mutates: configuration, routes, static files, the broker.
final class ServerContext: Sendable {
    let configuration: ServerConfiguration
    let router: Router<Route>
    let staticFiles: StaticFiles
    let streamOptions: WebSocketOptions
    let echoOptions: WebSocketOptions
    /// The benchmark contract (`loadtest/peers/README.md`): messages up to 1 MiB, no compression.
    let broadcastOptions = WebSocketOptions(maxFramePayload: 1 << 20, maxMessageSize: 1 << 20, permessageDeflate: false)
    let parserLimits = HTTPParserLimits()
    let decoder: TransactionDecoder
    let broker: Broker
    let counters = StreamCounters()
    let shutdown: ShutdownFlag
    /// Set once the journal has been replayed (`/readyz`).
    let ready = Atomic<Bool>(false)
    /// Why the broker stopped ingest (a journal append failed), once a loop has been told so:
    /// `/readyz` then answers 503 so that a supervisor restarts the server.
    let ingestFailure = Mutex<String?>(nil)

    /// Records that the broker answered "unavailable": it does so only once ingest has stopped.
    func noteIngestStopped(_ reason: String) {
        ingestFailure.withLock { $0 = $0 ?? reason }
    }
    /// Transactions submitted to the broker and not yet answered (429 past the bound).
    let inFlightTransactions = Atomic<Int>(0)
    let metrics = ServerMetrics()
    /// Host, Origin and API key checks.
    let policy: RequestPolicy

    let group: EventLoopGroup
    /// One ingest reply target per loop, by loop index.
    let ingestReplies: [LoopIngestReplies]

    init(configuration: ServerConfiguration, broker: Broker, group: EventLoopGroup, shutdown: ShutdownFlag) {
        self.group = group
        self.ingestReplies = group.loops.map { LoopIngestReplies(loop: $0) }
        self.configuration = configuration
        self.decoder = TransactionDecoder(limits: configuration.transactionLimits)
        self.router = Route.table(echo: configuration.echo, broadcast: configuration.broadcast)
        self.staticFiles = StaticFiles(root: configuration.staticDirectory)
        self.streamOptions = WebSocketOptions(maxFramePayload: 64 * 1024, maxMessageSize: 64 * 1024)
        self.echoOptions = .echo
        self.broker = broker
        self.shutdown = shutdown
        self.policy = RequestPolicy(
            host: configuration.host, allowedHosts: configuration.allowedHosts,
            allowedOrigins: configuration.allowedOrigins, apiKeys: configuration.apiKeys)
    }

    /// TCP connections open right now.
    func openConnections() -> Int { group.openConnections }
}

extension String {
    func trimmingSpaces() -> String {
        var text = Substring(self)
        while text.first == " " || text.first == "\t" { text = text.dropFirst() }
        while text.last == " " || text.last == "\t" { text = text.dropLast() }
        return String(text)
    }
}

/// Per-loop state, reached through `EventLoop.context`; touched only on that loop's thread.
final class LoopContext {
    var dates = HTTPDateCache()
    let subscribers: LoopSubscribers
    /// Ingest requests parsed during this iteration, handed to the broker together at its end.
    private var pendingIngest: [IngestRequest] = []

    /// Queues one request; the first of an iteration schedules the hand-off.
    ///
    /// A large request (``Broker/inlineAppendLimit`` transactions or more, i.e. an NDJSON batch)
    /// is handed over at once, in one command with the small ones queued before it (their order
    /// kept), so that the broker decides it while this loop parses the next one. Held to the end
    /// of the iteration, a dozen 1,000-transaction batches would reach the broker together and
    /// each stage (parse, decide, append) would wait for the whole previous one: ~30% of the
    /// machine idle and ~80 ms per request, against ~8% idle and a median of ~0.80 against
    /// 0.68–0.70 M tx/s handed over at once (durable NDJSON, batches of 1,000, 64 connections,
    /// `loadtest/run.sh ingest --batch 1000`).
    func queueIngest(_ transactions: [Transaction], token: any Sendable, context: ServerContext, loop: EventLoop) {
        if pendingIngest.isEmpty {
            loop.atEndOfIteration { [self] in flushIngest(context: context, loop: loop) }
        }
        pendingIngest.append(IngestRequest(transactions: transactions, token: token))
        if transactions.count >= Broker.inlineAppendLimit { flushIngest(context: context, loop: loop) }
    }

    /// Hands the queued requests to the broker in one command (nothing when a large request
    /// already took them along). Also called before a query or publish is submitted, so that the
    /// broker sees one connection's pipelined requests in their order.
    func flushIngest(context: ServerContext, loop: EventLoop) {
        guard !pendingIngest.isEmpty else { return }
        let requests = pendingIngest
        pendingIngest = []
        context.broker.ingest(requests, target: context.ingestReplies[loop.index])
    }

    init() {
        subscribers = LoopSubscribers()
    }

    /// The current IMF-fixdate for a Date header, recomputed at most once a second.
    func dateHeader() -> String {
        dates.string(epochSeconds: Int(time(nil)))
    }
}

extension EventLoop {
    /// This loop's server state (created on first use, on the loop's thread).
    var server: LoopContext {
        // Only this layer sets `context`, always to a LoopContext: skip the dynamic cast (it
        // showed in profiles, being paid on every response and every fan-out batch).
        if let existing = context { return unsafeDowncast(existing, to: LoopContext.self) }
        preconditionFailure("LoopContext is installed by SyndicastServer.start before any connection")
    }
}

/// Carries a loop-confined object through a `@Sendable` closure that runs on that same loop.
struct LoopBound<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
