import ArgumentParser
import Broker
import Glibc
import Journal
import Monitor
import SyndicastServer

/// `syndicast serve`: runs the server until SIGINT or SIGTERM.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the server (the default command).")

    @Option(help: "Address to bind.") var host = "127.0.0.1"
    @Option(help: "Port to bind (0 picks a free port).") var port = 8080
    @Option(help: "Journal directory (SQLite).") var data = "./data"
    @Flag(help: "Keep the journal in memory (nothing survives a restart).") var inMemory = false
    @Option(help: "Directory of the dashboard's static files.") var staticDir = "web-static"
    @Option(help: "Event loop threads (default: one per core less one for the broker, at least 1).")
    var threads = ServerConfiguration.defaultLoopCount
    @Option(help: "Most connections open at once.") var connectionLimit = 100_000
    @Option(help: "Seconds between keepalive pings on quiet WebSockets.") var pingInterval = 25
    @Option(help: "Seconds a client has to send a complete request (slowloris bound).") var requestTimeout = 10
    @Option(help: "Seconds an idle keep-alive HTTP connection stays open.") var keepAliveTimeout = 30
    @Option(help: "Bytes a stream subscriber may have queued before it is closed with 4008 (slow consumer).")
    var outboundLimit = 4 << 20
    @Flag(help: "Serve the /echo WebSocket endpoint (conformance testing).") var echo = false
    @Flag(help: "Serve the /broadcast WebSocket endpoint (benchmarks against peer servers).") var broadcast = false
    @Option(help: "Bearer key required for ingest and publish (repeatable; printable ASCII, no spaces).")
    var apiKey: [String] = []
    @Option(
        help: """
            Origin (e.g. https://ops.example.com) allowed to write and open streams besides the server's own \
            (repeatable; requests without Origin, such as curl's, always pass).
            """)
    var allowedOrigin: [String] = []
    @Option(help: "Host name (name or name:port) clients may reach the server by, besides the bound address (repeatable).")
    var allowedHost: [String] = []
    @Option(help: "Alert when a transaction's amount is strictly greater (decimal, e.g. 10000 or 2500.50).")
    var amountThreshold = "10000"
    @Option(help: "Refuse a transaction whose amount is greater (decimal, e.g. 1000000000000 or 2500.50).")
    var maxAmount = "1000000000000"
    @Option(help: "Refuse event times more than this many seconds ahead of the server's clock (past times are valid).")
    var maxClockSkew = 300
    @Option(help: "Spike rule window in seconds.") var spikeWindow = 3600
    @Option(help: "Spike rule: alert when a syndicate has more than this many transactions in the window.")
    var spikeThreshold = 100
    @Option(help: "Investors in the live top list.") var topK = 5
    @Option(help: "Sequenced events kept for resume.") var history = 10_000
    @Option(help: "Bytes the resume history may hold, whatever the event count (default 64 MiB).")
    var historyBytes = 64 << 20
    @Option(help: "Most recent transaction ids remembered for idempotency.") var idempotencyWindow = 1_000_000
    @Option(help: "Journal durability: full (fsync each commit), normal (survives kill -9), off.")
    var sync = "full"

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0…65535") }
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be 1…256") }
        guard connectionLimit > 0 else { throw ValidationError("--connection-limit must be positive") }
        guard pingInterval > 0 else { throw ValidationError("--ping-interval must be positive") }
        guard requestTimeout > 0, keepAliveTimeout > 0 else {
            throw ValidationError("--request-timeout and --keep-alive-timeout must be positive")
        }
        if let problem = ServerConfiguration.problem(withAPIKeys: apiKey) { throw ValidationError("--api-key: \(problem)") }
        guard outboundLimit >= 1_024 else { throw ValidationError("--outbound-limit must be at least 1024") }
        guard (try? Money(parsing: amountThreshold)) != nil else {
            throw ValidationError("--amount-threshold must be a positive decimal with at most 2 fraction digits")
        }
        guard (try? Money(parsing: maxAmount)) != nil else {
            throw ValidationError("--max-amount must be a positive decimal with at most 2 fraction digits")
        }
        guard (0...Int(Int32.max)).contains(maxClockSkew) else {
            throw ValidationError("--max-clock-skew must be 0…\(Int32.max) seconds")
        }
        guard spikeWindow > 0 else { throw ValidationError("--spike-window must be positive") }
        guard spikeThreshold >= 0 else { throw ValidationError("--spike-threshold must not be negative") }
        guard (1...1_000).contains(topK) else { throw ValidationError("--top-k must be 1…1000") }
        guard history > 0 else { throw ValidationError("--history must be positive") }
        guard historyBytes >= 0 else { throw ValidationError("--history-bytes must not be negative") }
        guard (1...50_000_000).contains(idempotencyWindow) else {
            throw ValidationError("--idempotency-window must be 1…50000000 (its table takes ~48 bytes per id)")
        }
        guard JournalSynchronous(rawValue: sync) != nil else { throw ValidationError("--sync must be full, normal or off") }
    }

    func run() throws {
        var configuration = ServerConfiguration()
        configuration.host = host
        configuration.port = port
        configuration.dataDirectory = inMemory ? nil : data
        configuration.staticDirectory = staticDir
        configuration.threads = threads
        configuration.connectionLimit = connectionLimit
        configuration.pingIntervalSeconds = pingInterval
        configuration.requestTimeoutSeconds = requestTimeout
        configuration.keepAliveTimeoutSeconds = keepAliveTimeout
        configuration.outboundLimit = outboundLimit
        configuration.echo = echo
        configuration.broadcast = broadcast
        configuration.apiKeys = apiKey
        configuration.allowedOrigins = allowedOrigin
        configuration.allowedHosts = allowedHost
        configuration.synchronous = JournalSynchronous(rawValue: sync) ?? .full
        configuration.monitor = MonitorConfiguration(
            amountThreshold: (try? Money(parsing: amountThreshold)) ?? Money(cents: 1_000_000),
            spikeWindowSeconds: Int64(spikeWindow), spikeThreshold: spikeThreshold, topK: topK,
            spikeClockMarginSeconds: Int64(maxClockSkew))
        configuration.transactionLimits.maximumAmount =
            (try? Money(parsing: maxAmount)) ?? TransactionDecoder.Limits.defaultMaximumAmount
        configuration.transactionLimits.maximumClockSkewMilliseconds = Int64(maxClockSkew) * 1000
        configuration.broker.historyCapacity = history
        configuration.broker.historyBytes = historyBytes
        configuration.broker.idempotencyWindow = idempotencyWindow

        SyndicastServer.blockTerminationSignals()
        let server = try SyndicastServer(configuration: configuration)
        let bound = try server.start { failure in
            // The journal is damaged: serving part of the state would be wrong, and nothing was
            // accepted yet (ingest queues behind the replay). `_exit`: the other threads are live.
            let text = "error: \(failure)\n"
            _ = text.withCString { write(2, $0, strlen($0)) }
            _exit(1)
        }
        let loopback = host.hasPrefix("127.") || host == "::1" || host == "localhost"
        if !loopback && apiKey.isEmpty {
            log("warning: listening on \(host) without --api-key: anyone who can reach it may ingest")
        }
        let loops = threads == 1 ? "1 event loop" : "\(threads) event loops"
        log("syndicast listening on http://\(host):\(bound)/ (\(loops) and a broker thread\(echo ? ", /echo enabled" : ""))")
        let signal = SyndicastServer.waitForTerminationSignal()
        log("received signal \(signal), stopping")
        server.stopGracefully()
        log("stopped")
    }

    private func log(_ message: String) {
        print(message)
        fflush(nil)
    }
}
