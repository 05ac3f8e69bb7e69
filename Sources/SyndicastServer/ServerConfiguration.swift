import Broker
import Journal
import Monitor
import Redis

/// Everything `syndicast serve` can be told; defaults are DESIGN.md §3's.
public struct ServerConfiguration: Sendable {
    /// Address to bind.
    public var host = "127.0.0.1"
    /// Port to bind; 0 picks a free one.
    public var port = 8080
    /// Port of a listener on 127.0.0.1 serving only `/metrics` (then not served on ``port``);
    /// nil: `/metrics` is served on ``port``.
    public var metricsPort: Int?
    /// Event loop threads; defaults to one per core but the broker's (see `defaultLoopCount`).
    public var threads = ServerConfiguration.defaultLoopCount
    /// Directory of the dashboard's static files.
    public var staticDirectory = "web-static"
    /// Directory of the journal (`nil`: in memory).
    public var dataDirectory: String? = "./data"
    /// `--redis`: cluster mode, the shared log on this Redis (docs/CLUSTER.md); no local journal
    /// is opened and ``dataDirectory`` is ignored. Nil: a single node.
    public var redis: RedisURL?
    /// `--redis-idempotency-ttl`: seconds an id is remembered in Redis (the same on every instance).
    public var redisIdempotencyTTLSeconds = 86_400
    /// `--redis-snapshot-interval`: seconds between the snapshots the lease holder stores in Redis
    /// (0: never; docs/CLUSTER.md "Snapshots and trimming").
    public var redisSnapshotIntervalSeconds = 60
    /// Serve the `/echo` WebSocket endpoint (for conformance testing).
    public var echo = false
    /// Serve the `/broadcast` WebSocket endpoint (benchmark contract shared with peer servers).
    public var broadcast = false
    /// HS256 key of the tokens `/ws` and `/events` require (`--stream-token-secret`); nil: streams
    /// are open to every client that passes the Host and Origin checks.
    public var streamTokenSecret: [UInt8]?
    /// Most connections open at once.
    public var connectionLimit = 100_000
    /// Seconds between server pings on idle WebSockets; a peer that misses two is closed.
    public var pingIntervalSeconds = 25
    /// Seconds a client has to send a complete request head (slowloris bound).
    public var requestTimeoutSeconds = 10
    /// Seconds an idle keep-alive HTTP connection stays open.
    public var keepAliveTimeoutSeconds = 30
    /// Seconds graceful shutdown waits for clients before aborting them.
    public var shutdownGraceSeconds = 3
    /// Bytes a stream subscriber may have queued before it is closed as a slow consumer (4008).
    public var outboundLimit = 4 << 20
    /// Origins allowed besides the server's own (`http://` or `https://` plus its Host) to write and to open
    /// streams; a request with any other `Origin` gets 403. Requests without `Origin` pass.
    public var allowedOrigins: [String] = []
    /// Names (`name` or `name:port`) clients may use in `Host` besides the bound address (and
    /// `localhost` when bound to loopback); other `Host` values get 421 (DNS rebinding).
    public var allowedHosts: [String] = []
    /// Bearer keys accepted for every write, with every scope (`--api-key`); empty and no
    /// `apiKeyFile` means no authentication.
    public var apiKeys: [String] = []
    /// File of scoped keys, `KEY scope[,scope…]` a line (`--api-key-file`, ``APIKeyFile``), read
    /// at start and on SIGHUP. Set, it makes keys required even while it holds none.
    public var apiKeyFile: String?
    /// PEM certificate chain and private key (`--tls-cert`, `--tls-key`): both set, the listener
    /// serves `https://` and `wss://` only; both nil, plain text.
    public var tlsCertificateFile: String?
    public var tlsKeyFile: String?
    /// Seconds a client has to finish the TLS handshake.
    public var tlsHandshakeTimeoutSeconds = 10
    /// How hard the journal pushes each commit to disk.
    public var synchronous = JournalSynchronous.full
    /// Alert rules and rankings size.
    public var monitor = MonitorConfiguration()
    /// Ingest decoding bounds, among them `--max-amount` and `--max-clock-skew`.
    public var transactionLimits = TransactionDecoder.Limits()
    /// History size for resume.
    public var broker = BrokerConfiguration()
    /// `--spike-store`: where cluster mode evaluates the spike rule; pass it to the cluster-mode
    /// `MessageBroker(…, sharedLog:, …, spikeStore:)`. Single-node mode always evaluates in process.
    public var spikeStore = SpikeStore.monitor

    public init() {}

    /// Why these API keys cannot be used (empty, white space, or not a header-safe token), or nil.
    public static func problem(withAPIKeys keys: [String]) -> String? {
        RequestPolicy.validateKeys(keys)
    }

    /// Whether writes need an API key (`--api-key` or `--api-key-file` given).
    public var requiresAPIKey: Bool { !apiKeys.isEmpty || apiKeyFile != nil }

    /// Whether the listener speaks TLS (`--tls-cert` and `--tls-key`).
    public var servesTLS: Bool { tlsCertificateFile != nil && tlsKeyFile != nil }

    /// The start-up warning for a server anyone may write to: bound beyond loopback without any
    /// API key (saying whether TLS is off too). Nil when keys or loopback protect it.
    public func exposureWarning(port: Int) -> String? {
        guard !requiresAPIKey, !RequestPolicy.isLoopback(host.lowercased()) else { return nil }
        let transport = servesTLS ? "(TLS is on)" : "and without TLS (--tls-cert, --tls-key)"
        return "listening on \(host) port \(port) without an API key (--api-key, --api-key-file) \(transport): "
            + "anyone who can reach the port may ingest and publish, and the streams (/ws, /events) are "
            + "unauthenticated unless stream tokens are configured"
    }

    /// One event loop per core, less the core the broker thread keeps busy under ingest (it
    /// decides, applies and journals every transaction); at least one. Measured on 2 cores with
    /// the load generator on the same machine: 1 loop against 2 took single-POST ingest from
    /// 30–35 to 25 µs of server CPU per request (fewer context switches among loops, broker and
    /// client) and broadcast fan-out to 10,000 subscribers from 1.54 to 1.79 M deliveries/s.
    public static var defaultLoopCount: Int {
        max(coreCount - 1, 1)
    }

    /// Number of online processors.
    public static var coreCount: Int {
        max(Int(sysconfCores()), 1)
    }

    /// Why this stream token secret cannot be used (too short for HS256), or nil.
    public static func problem(withStreamTokenSecret secret: String) -> String? {
        let minimum = StreamTokenVerifier.minimumSecretLength
        guard secret.utf8.count >= minimum else {
            return "the secret must be at least \(minimum) bytes (32 random bytes recommended), got \(secret.utf8.count)"
        }
        return nil
    }
}

#if canImport(Glibc)
    import Glibc

    private func sysconfCores() -> Int { sysconf(Int32(_SC_NPROCESSORS_ONLN)) }
#else
    private func sysconfCores() -> Int { 1 }
#endif
