import Broker
import HTTP1
import Monitor
import Reactor
import Synchronization
import WebSocket

/// What the endpoints and the sessions share, grouped by concern: the configuration, the broker,
/// how requests are admitted and routed, the WebSocket endpoints' options, the server's lifecycle
/// as the API reports it, ingest's admission counter, the metrics and stream counters, and the
/// event loops with their typed per-loop state.
///
/// Built without event loops (`loops: []`) it serves in-process endpoint tests: nothing here
/// opens a socket.
final class ServerContext: Sendable {
    let configuration: ServerConfiguration
    let broker: MessageBroker
    let routing: RequestRouting
    let webSocketOptions: WebSocketEndpointOptions
    let decoder: TransactionDecoder
    let lifecycle: ServerLifecycle
    /// Transactions submitted to the broker and not yet answered (429 past
    /// ``Endpoints/maximumInFlightTransactions``).
    let inFlightTransactions = Atomic<Int>(0)
    let metrics: ServerMetrics
    let counters = StreamCounters()
    /// The event loops and each one's ``LoopState``, by loop index.
    let loops: ServerLoops
    /// Cluster mode's shared log (`--redis`), nil for a single node.
    let cluster: ServerCluster?

    init(
        configuration: ServerConfiguration, broker: MessageBroker, shutdown: ShutdownFlag, loops: [EventLoop] = [],
        openConnections: @escaping @Sendable () -> Int = { 0 }, metrics: ServerMetrics? = nil, cluster: ServerCluster? = nil
    ) {
        self.cluster = cluster
        let metrics = metrics ?? ServerMetrics(loopCount: loops.count)
        self.metrics = metrics
        self.configuration = configuration
        self.broker = broker
        self.routing = RequestRouting(configuration: configuration)
        self.webSocketOptions = WebSocketEndpointOptions()
        self.decoder = TransactionDecoder(limits: configuration.transactionLimits)
        self.lifecycle = ServerLifecycle(shutdown: shutdown)
        self.loops = ServerLoops(loops, metrics: metrics, openConnections: openConnections)
    }
}

/// How a request is admitted and routed: the route table, the dashboard files, the Host, Origin
/// and API key policy, and the parser's limits.
struct RequestRouting: Sendable {
    let router: Router<Route>
    let staticFiles: StaticFiles
    let policy: RequestPolicy
    let parserLimits = HTTPParserLimits()

    init(configuration: ServerConfiguration) {
        router = Route.table(echo: configuration.echo, broadcast: configuration.broadcast, metrics: configuration.metricsPort == nil)
        staticFiles = StaticFiles(root: configuration.staticDirectory)
        policy = RequestPolicy(
            host: configuration.host, allowedHosts: configuration.allowedHosts,
            allowedOrigins: configuration.allowedOrigins, apiKeys: configuration.apiKeys,
            apiKeyFile: configuration.apiKeyFile)
    }
}

/// The options of each WebSocket endpoint.
struct WebSocketEndpointOptions: Sendable {
    /// `/ws`: messages up to 64 KiB.
    let stream = WebSocketOptions(maxFramePayload: 64 * 1024, maxMessageSize: 64 * 1024)
    /// `/echo`: the conformance suite's limits.
    let echo = WebSocketOptions.echo
    /// `/broadcast`: the benchmark contract (`loadtest/peers/README.md`): messages up to 1 MiB,
    /// no compression.
    let broadcast = WebSocketOptions(maxFramePayload: 1 << 20, maxMessageSize: 1 << 20, permessageDeflate: false)
}

/// The server's lifecycle as `/readyz` and the write endpoints report it.
final class ServerLifecycle: Sendable {
    /// Set when a graceful stop begins.
    let shutdown: ShutdownFlag
    /// Set once the journal has been replayed (`/readyz`).
    let ready = Atomic<Bool>(false)
    /// Why the broker stopped ingest (a journal append failed), once a loop has been told so:
    /// `/readyz` then answers 503 so that a supervisor restarts the server.
    let ingestFailure = Mutex<String?>(nil)

    init(shutdown: ShutdownFlag) {
        self.shutdown = shutdown
    }

    /// Records that the broker answered "unavailable": it does so only once ingest has stopped.
    func noteIngestStopped(_ reason: String) {
        ingestFailure.withLock { $0 = $0 ?? reason }
    }
}

/// The event loops and their per-loop state.
final class ServerLoops: Sendable {
    let all: [EventLoop]
    /// By loop index; each is reached only on its own loop (checked in debug builds).
    private let states: [LoopBound<LoopState>]
    private let countOpenConnections: @Sendable () -> Int

    init(_ loops: [EventLoop], metrics: ServerMetrics? = nil, openConnections: @escaping @Sendable () -> Int) {
        all = loops
        states = loops.map { LoopBound(LoopState(loop: $0, metrics: metrics), on: $0) }
        countOpenConnections = openConnections
    }

    /// The state of `loop`; call only on that loop's thread.
    func state(of loop: EventLoop) -> LoopState {
        states[loop.index].value
    }

    /// TCP connections open right now.
    func openConnections() -> Int { countOpenConnections() }
}
