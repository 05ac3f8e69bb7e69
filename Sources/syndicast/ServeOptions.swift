import SyndicastServer

/// Every `syndicast serve` option: flag, environment variable, default, unit and help, once.
///
/// DESIGN.md §3: every flag also reads from `SYNDICAST_<FLAG>`. The README's configuration table
/// is `syndicast options --markdown`; a unit test checks that ``ServeCommand`` declares exactly
/// these flags and that each variable parses.
enum ServeOptions {
    static let host = ServeOption(
        "host", default: "127.0.0.1", unit: "address",
        help: "Address to bind; a non-loopback address without --api-key or --api-key-file logs a warning.")
    static let port = ServeOption("port", default: 8080, unit: "port", help: "Port to bind (0 picks a free port).")
    static let metricsPort = ServeOption(
        "metrics-port", default: 0, shown: "off", unit: "port",
        help: "Serve /metrics only on a listener of its own at 127.0.0.1 on this port (off: on the main port).")
    static let threads = ServeOption(
        "threads", default: ServerConfiguration.defaultLoopCount, shown: "cores − 1 (at least 1)", unit: "count",
        help: "Event loop threads, 1…256; the broker thread takes the remaining core.")
    static let staticDirectory = ServeOption(
        "static-dir", default: "web-static", unit: "path", help: "Directory of the dashboard's static files.")
    static let data = ServeOption("data", default: "./data", unit: "path", help: "Journal directory (SQLite, WAL).")
    static let inMemory = ServeOption(
        "in-memory", .toggle, default: false, shown: "off", help: "Keep the journal in memory (nothing survives a restart).")
    static let sync = ServeOption(
        "sync", default: "full",
        help: "Journal durability: full (fsync each commit), normal (survives kill -9), off.")
    static let redis = ServeOption<String?>(
        "redis", default: nil, shown: "none", unit: "url",
        help: """
            Cluster mode: redis://[[user]:password@]HOST[:PORT][/DB]. Instances on one Redis share one ordered log \
            (docs/CLUSTER.md); no local journal is opened (--data and --sync unused; --in-memory excluded).
            """)
    static let redisIdempotencyTTL = ServeOption(
        "redis-idempotency-ttl", default: 86_400, unit: "seconds",
        help: "Cluster mode: how long a transaction id stays in the idempotency window, by the stream's time "
            + "(besides the window's id count); the same on every instance.")
    static let amountThreshold = ServeOption(
        "amount-threshold", default: "10000", unit: "decimal",
        help: "Alert when a transaction's amount is strictly greater (e.g. 10000 or 2500.50).")
    static let spikeWindow = ServeOption("spike-window", default: 3600, unit: "seconds", help: "Spike rule window.")
    static let spikeThreshold = ServeOption(
        "spike-threshold", default: 100, unit: "count",
        help: "Spike rule: alert when a syndicate has more than this many transactions in the window.")
    static let topK = ServeOption("top-k", default: 5, unit: "count", help: "Investors in the live top list, 1…1000.")
    static let history = ServeOption("history", default: 10_000, unit: "events", help: "Sequenced events kept for resume.")
    static let historyBytes = ServeOption(
        "history-bytes", default: 64 << 20, unit: "bytes",
        help: "Most bytes the resume history holds, whatever the event count (docs/MEMORY.md).")
    static let maxAmount = ServeOption(
        "max-amount", default: "1000000000000", unit: "decimal",
        help: "Refuse a transaction whose amount is greater (e.g. 1000000000000 or 2500.50).")
    static let maxClockSkew = ServeOption(
        "max-clock-skew", default: 300, unit: "seconds",
        help: "Refuse event times more than this far ahead of the server's clock (past times are valid); "
            + "also the spike rule's clock margin (docs/SPIKE-RULE.md).")
    static let idempotencyWindow = ServeOption(
        "idempotency-window", default: 1_000_000, unit: "ids",
        help: """
            Most recent transaction ids remembered for duplicate detection, 1…50000000 (~99 bytes of RSS \
            per id, ~95 MiB when the default window is full: docs/MEMORY.md); the same on every instance of a cluster.
            """)
    static let apiKey = ServeOption(
        "api-key", .repeatable, default: [String](), shown: "none",
        help: "Bearer key required for ingest and publish, with every scope (repeatable; printable ASCII, no spaces).")
    static let apiKeyFile = ServeOption(
        "api-key-file", default: "", shown: "none", unit: "path",
        help: """
            File of scoped keys, one `KEY SCOPE[,SCOPE…]` a line (scopes ingest, publish, admin; admin implies \
            both; # comments); reloaded on SIGHUP, a bad file then keeps the previous keys.
            """)
    static let allowedOrigin = ServeOption(
        "allowed-origin", .repeatable, default: [String](), shown: "none",
        help: """
            Origin (e.g. https://ops.example.com) allowed to write and open streams besides the server's own \
            (repeatable; requests without Origin, such as curl's, always pass).
            """)
    static let allowedHost = ServeOption(
        "allowed-host", .repeatable, default: [String](), shown: "none",
        help: "Host name (name or name:port) clients may reach the server by, besides the bound address (repeatable).")
    static let streamTokenSecret = ServeOption<String?>(
        "stream-token-secret", default: nil, shown: "none", unit: "secret",
        help: """
            HS256 key; /ws and /events then require a JSON Web Token (exp, sub, optional topics) as ?token= or \
            Authorization: Bearer, and close a stream with 1008 when it expires. At least 16 bytes; prefer the \
            environment variable to the flag (argv is visible to other users).
            """)
    static let connectionLimit = ServeOption(
        "connection-limit", default: 100_000, unit: "connections",
        help: "Most connections open at once; more are reset at accept (capped to the descriptor limit − 64).")
    static let pingInterval = ServeOption(
        "ping-interval", default: 25, unit: "seconds",
        help: "Time between keepalive pings on quiet WebSockets; two unanswered close the connection.")
    static let requestTimeout = ServeOption(
        "request-timeout", default: 10, unit: "seconds", help: "Time a client has to send a complete request (slowloris bound).")
    static let keepAliveTimeout = ServeOption(
        "keep-alive-timeout", default: 30, unit: "seconds", help: "Time an idle keep-alive HTTP connection stays open.")
    static let shutdownTimeout = ServeOption(
        "shutdown-timeout", default: 10, unit: "seconds",
        help: "Longest a stop on SIGTERM or SIGINT may take (finish requests and commits, close streams with 1001); "
            + "past it the server logs what did not finish and exits with status 1.")
    static let outboundLimit = ServeOption(
        "outbound-limit", default: 4 << 20, unit: "bytes",
        help: "Bytes a stream subscriber may have queued before it is closed with 4008 (slow consumer), at least 1024.")
    static let echo = ServeOption(
        "echo", .toggle, default: false, shown: "off", help: "Serve the /echo WebSocket endpoint (conformance testing).")
    static let broadcast = ServeOption(
        "broadcast", .toggle, default: false, shown: "off",
        help: "Serve the /broadcast WebSocket endpoint (benchmarks against peer servers).")
    static let logLevel = ServeOption(
        "log-level", default: "info",
        help: "Least severe log record written: trace, debug, info, notice, warning, error or critical.")
    static let tlsCertificate = ServeOption(
        "tls-cert", default: "", shown: "none", unit: "path",
        help: """
            PEM certificate chain; with --tls-key the port serves https:// and wss:// only (TLS 1.2+, ALPN \
            http/1.1, session resumption). Both are read again on SIGHUP; a bad pair then keeps the previous one.
            """)
    static let tlsKey = ServeOption(
        "tls-key", default: "", shown: "none", unit: "path", help: "PEM private key of --tls-cert (both or neither).")
    static let tlsHandshakeTimeout = ServeOption(
        "tls-handshake-timeout", default: 10, unit: "seconds", help: "Time a client has to finish the TLS handshake.")
    static let redisSnapshotInterval = ServeOption(
        "redis-snapshot-interval", default: 60, unit: "seconds",
        help: """
            Cluster mode: how often the instance holding the snapshot lease stores the state in Redis and trims \
            the stream to the previous snapshot (0: never; docs/CLUSTER.md).
            """)

    static let spikeStore = ServeOption(
        "spike-store", default: "memory",
        help: """
            Where cluster mode evaluates the spike rule: memory (each instance's monitor) or redis (sorted sets \
            inside the ingest script, decisions carried in the stream; cluster mode only; docs/CLUSTER.md).
            """)

    static let logFormat = ServeOption(
        "log-format", default: "text",
        help: "Log records on standard error as text lines or JSON lines (ts, level, label, message, metadata).")

    /// Every option, in the order `serve --help` and the README table list them.
    static let all: [any ServeOptionDescription] = [
        host, port, metricsPort, threads, staticDirectory, data, inMemory, sync, redis, redisIdempotencyTTL, redisSnapshotInterval,
        spikeStore, amountThreshold,
        spikeWindow, spikeThreshold, topK,
        history, historyBytes, maxAmount, maxClockSkew, idempotencyWindow, apiKey, apiKeyFile, allowedOrigin, allowedHost,
        streamTokenSecret, connectionLimit, pingInterval, requestTimeout, keepAliveTimeout, shutdownTimeout, outboundLimit,
        echo, broadcast, logLevel, logFormat, tlsCertificate, tlsKey, tlsHandshakeTimeout,
    ]

    /// The option a `SYNDICAST_*` variable names, or nil.
    static func option(forEnvironmentName name: String) -> (any ServeOptionDescription)? {
        all.first { $0.environmentName == name }
    }

    /// The README's configuration table (GitHub Markdown), one row per option.
    static func markdownTable() -> String {
        // The environment variable is not a column: every name follows one rule, which the
        // README states (`SYNDICAST_` + the flag in capitals, `-` as `_`; see `environmentName`).
        var lines = ["| flag | default | meaning |", "|---|---|---|"]
        for option in all {
            let unit = option.unit.isEmpty ? "" : " \(option.unit)"
            let help = option.help.replacingPipes()
            lines.append("| `\(option.flag)` | `\(option.defaultText)`\(unit) | \(help) |")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension String {
    /// The text with `|` escaped for a Markdown table cell.
    fileprivate func replacingPipes() -> String {
        var result = ""
        for character in self {
            if character == "|" { result += "\\|" } else { result.append(character) }
        }
        return result
    }
}
