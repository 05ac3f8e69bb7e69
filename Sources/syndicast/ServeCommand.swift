import ArgumentParser
import Broker
import Glibc
import Journal
import Logging
import Monitor
import Redis
import SyndicastServer

/// `syndicast serve`: runs the server until SIGINT or SIGTERM.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the server (the default command).")

    // Each flag's name, help and default come from its ServeOptions entry, in the table's order.
    @Option(name: ServeOptions.host.argumentName, help: ServeOptions.host.argumentHelp)
    var host = ServeOptions.host.defaultValue
    @Option(name: ServeOptions.port.argumentName, help: ServeOptions.port.argumentHelp)
    var port = ServeOptions.port.defaultValue
    @Option(name: ServeOptions.metricsPort.argumentName, help: ServeOptions.metricsPort.argumentHelp)
    var metricsPort = ServeOptions.metricsPort.defaultValue
    @Option(name: ServeOptions.threads.argumentName, help: ServeOptions.threads.argumentHelp)
    var threads = ServeOptions.threads.defaultValue
    @Option(name: ServeOptions.staticDirectory.argumentName, help: ServeOptions.staticDirectory.argumentHelp)
    var staticDir = ServeOptions.staticDirectory.defaultValue
    @Option(name: ServeOptions.data.argumentName, help: ServeOptions.data.argumentHelp)
    var data = ServeOptions.data.defaultValue
    @Flag(name: ServeOptions.inMemory.argumentName, help: ServeOptions.inMemory.argumentHelp)
    var inMemory = ServeOptions.inMemory.defaultValue
    @Option(name: ServeOptions.sync.argumentName, help: ServeOptions.sync.argumentHelp)
    var sync = ServeOptions.sync.defaultValue
    @Option(name: ServeOptions.redis.argumentName, help: ServeOptions.redis.argumentHelp)
    var redis = ServeOptions.redis.defaultValue
    @Option(name: ServeOptions.redisIdempotencyTTL.argumentName, help: ServeOptions.redisIdempotencyTTL.argumentHelp)
    var redisIdempotencyTTL = ServeOptions.redisIdempotencyTTL.defaultValue
    @Option(name: ServeOptions.redisSnapshotInterval.argumentName, help: ServeOptions.redisSnapshotInterval.argumentHelp)
    var redisSnapshotInterval = ServeOptions.redisSnapshotInterval.defaultValue
    @Option(name: ServeOptions.amountThreshold.argumentName, help: ServeOptions.amountThreshold.argumentHelp)
    var amountThreshold = ServeOptions.amountThreshold.defaultValue
    @Option(name: ServeOptions.spikeWindow.argumentName, help: ServeOptions.spikeWindow.argumentHelp)
    var spikeWindow = ServeOptions.spikeWindow.defaultValue
    @Option(name: ServeOptions.spikeThreshold.argumentName, help: ServeOptions.spikeThreshold.argumentHelp)
    var spikeThreshold = ServeOptions.spikeThreshold.defaultValue
    @Option(name: ServeOptions.topK.argumentName, help: ServeOptions.topK.argumentHelp)
    var topK = ServeOptions.topK.defaultValue
    @Option(name: ServeOptions.history.argumentName, help: ServeOptions.history.argumentHelp)
    var history = ServeOptions.history.defaultValue
    @Option(name: ServeOptions.historyBytes.argumentName, help: ServeOptions.historyBytes.argumentHelp)
    var historyBytes = ServeOptions.historyBytes.defaultValue
    @Option(name: ServeOptions.maxAmount.argumentName, help: ServeOptions.maxAmount.argumentHelp)
    var maxAmount = ServeOptions.maxAmount.defaultValue
    @Option(name: ServeOptions.maxClockSkew.argumentName, help: ServeOptions.maxClockSkew.argumentHelp)
    var maxClockSkew = ServeOptions.maxClockSkew.defaultValue
    @Option(name: ServeOptions.idempotencyWindow.argumentName, help: ServeOptions.idempotencyWindow.argumentHelp)
    var idempotencyWindow = ServeOptions.idempotencyWindow.defaultValue
    @Option(name: ServeOptions.apiKey.argumentName, help: ServeOptions.apiKey.argumentHelp)
    var apiKey = ServeOptions.apiKey.defaultValue
    @Option(name: ServeOptions.apiKeyFile.argumentName, help: ServeOptions.apiKeyFile.argumentHelp)
    var apiKeyFile = ServeOptions.apiKeyFile.defaultValue
    @Option(name: ServeOptions.allowedOrigin.argumentName, help: ServeOptions.allowedOrigin.argumentHelp)
    var allowedOrigin = ServeOptions.allowedOrigin.defaultValue
    @Option(name: ServeOptions.allowedHost.argumentName, help: ServeOptions.allowedHost.argumentHelp)
    var allowedHost = ServeOptions.allowedHost.defaultValue
    @Option(name: ServeOptions.streamTokenSecret.argumentName, help: ServeOptions.streamTokenSecret.argumentHelp)
    var streamTokenSecret = ServeOptions.streamTokenSecret.defaultValue
    @Option(name: ServeOptions.connectionLimit.argumentName, help: ServeOptions.connectionLimit.argumentHelp)
    var connectionLimit = ServeOptions.connectionLimit.defaultValue
    @Option(name: ServeOptions.pingInterval.argumentName, help: ServeOptions.pingInterval.argumentHelp)
    var pingInterval = ServeOptions.pingInterval.defaultValue
    @Option(name: ServeOptions.requestTimeout.argumentName, help: ServeOptions.requestTimeout.argumentHelp)
    var requestTimeout = ServeOptions.requestTimeout.defaultValue
    @Option(name: ServeOptions.keepAliveTimeout.argumentName, help: ServeOptions.keepAliveTimeout.argumentHelp)
    var keepAliveTimeout = ServeOptions.keepAliveTimeout.defaultValue
    @Option(name: ServeOptions.shutdownTimeout.argumentName, help: ServeOptions.shutdownTimeout.argumentHelp)
    var shutdownTimeout = ServeOptions.shutdownTimeout.defaultValue
    @Option(name: ServeOptions.outboundLimit.argumentName, help: ServeOptions.outboundLimit.argumentHelp)
    var outboundLimit = ServeOptions.outboundLimit.defaultValue
    @Flag(name: ServeOptions.echo.argumentName, help: ServeOptions.echo.argumentHelp)
    var echo = ServeOptions.echo.defaultValue
    @Flag(name: ServeOptions.broadcast.argumentName, help: ServeOptions.broadcast.argumentHelp)
    var broadcast = ServeOptions.broadcast.defaultValue
    @Option(name: ServeOptions.logLevel.argumentName, help: ServeOptions.logLevel.argumentHelp)
    var logLevel = ServeOptions.logLevel.defaultValue
    @Option(name: ServeOptions.logFormat.argumentName, help: ServeOptions.logFormat.argumentHelp)
    var logFormat = ServeOptions.logFormat.defaultValue
    @Option(name: ServeOptions.tlsCertificate.argumentName, help: ServeOptions.tlsCertificate.argumentHelp)
    var tlsCert = ServeOptions.tlsCertificate.defaultValue
    @Option(name: ServeOptions.tlsKey.argumentName, help: ServeOptions.tlsKey.argumentHelp)
    var tlsKey = ServeOptions.tlsKey.defaultValue
    @Option(name: ServeOptions.tlsHandshakeTimeout.argumentName, help: ServeOptions.tlsHandshakeTimeout.argumentHelp)
    var tlsHandshakeTimeout = ServeOptions.tlsHandshakeTimeout.defaultValue
    @Option(name: ServeOptions.spikeStore.argumentName, help: ServeOptions.spikeStore.argumentHelp)
    var spikeStore = ServeOptions.spikeStore.defaultValue

    /// Whether the server runs in cluster mode (`--redis`); `--spike-store redis` needs it.
    var usesSharedLog: Bool { redis != nil }

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0…65535") }
        guard (0...65_535).contains(metricsPort) else { throw ValidationError("--metrics-port must be 0…65535 (0: off)") }
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be 1…256") }
        guard connectionLimit > 0 else { throw ValidationError("--connection-limit must be positive") }
        guard pingInterval > 0 else { throw ValidationError("--ping-interval must be positive") }
        guard requestTimeout > 0, keepAliveTimeout > 0 else {
            throw ValidationError("--request-timeout and --keep-alive-timeout must be positive")
        }
        if let problem = ServerConfiguration.problem(withAPIKeys: apiKey) { throw ValidationError("--api-key: \(problem)") }
        if let secret = streamTokenSecret, let problem = ServerConfiguration.problem(withStreamTokenSecret: secret) {
            throw ValidationError("--stream-token-secret: \(problem)")
        }
        guard (1...3_600).contains(shutdownTimeout) else { throw ValidationError("--shutdown-timeout must be 1…3600") }
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
            throw ValidationError("--idempotency-window must be 1…50000000 (~99 bytes of RSS per id, docs/MEMORY.md)")
        }
        if let redis {
            guard !inMemory else {
                throw ValidationError("--redis and --in-memory exclude each other: in cluster mode the log is in Redis")
            }
            do { _ = try RedisURL(parsing: redis) } catch { throw ValidationError("--redis: \(error.message)") }
        }
        guard (1...31_536_000).contains(redisIdempotencyTTL) else {
            throw ValidationError("--redis-idempotency-ttl must be 1…31536000 seconds")
        }
        guard (0...86_400).contains(redisSnapshotInterval) else {
            throw ValidationError("--redis-snapshot-interval must be 0…86400 seconds (0: never)")
        }
        guard JournalSynchronous(rawValue: sync) != nil else { throw ValidationError("--sync must be full, normal or off") }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be trace, debug, info, notice, warning, error or critical")
        }
        guard LogFormat(rawValue: logFormat) != nil else { throw ValidationError("--log-format must be text or json") }
        guard (1...3_600).contains(tlsHandshakeTimeout) else { throw ValidationError("--tls-handshake-timeout must be 1…3600") }
        guard SpikeStore(rawValue: spikeStore) != nil else { throw ValidationError("--spike-store must be memory or redis") }
    }

    /// The server configuration these options describe (``validate()`` has passed).
    func serverConfiguration() -> ServerConfiguration {
        var configuration = ServerConfiguration()
        configuration.host = host
        configuration.port = port
        configuration.metricsPort = metricsPort == 0 ? nil : metricsPort
        configuration.redis = redis.flatMap { try? RedisURL(parsing: $0) }
        configuration.dataDirectory = inMemory || configuration.redis != nil ? nil : data
        configuration.redisIdempotencyTTLSeconds = redisIdempotencyTTL
        configuration.redisSnapshotIntervalSeconds = redisSnapshotInterval
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
        configuration.apiKeyFile = apiKeyFile.isEmpty ? nil : apiKeyFile
        configuration.allowedOrigins = allowedOrigin
        configuration.allowedHosts = allowedHost
        configuration.streamTokenSecret = streamTokenSecret.map { Array($0.utf8) }
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
        configuration.tlsCertificateFile = tlsCert.isEmpty ? nil : tlsCert
        configuration.tlsKeyFile = tlsKey.isEmpty ? nil : tlsKey
        configuration.tlsHandshakeTimeoutSeconds = tlsHandshakeTimeout
        configuration.spikeStore = SpikeStore(rawValue: spikeStore) ?? .monitor
        return configuration
    }

    func run() throws {
        let format = LogFormat(rawValue: logFormat) ?? .text
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in LogLineHandler(label: label, format: format, level: level) }
        let logger = Logger(label: "syndicast")
        for name in EnvironmentDefaults.unknownVariables(in: EnvironmentDefaults.current()) {
            logger.warning(
                "ignoring \(name): not a serve option (syndicast serve --help lists them)", metadata: ["variable": "\(name)"])
        }
        let configuration = serverConfiguration()
        // Refused at start, not in validate(), so that the option table's tests can parse the value alone.
        guard configuration.spikeStore == .monitor || usesSharedLog else { throw ValidationError("--spike-store redis needs --redis") }
        SyndicastServer.blockTerminationSignals()
        let server: SyndicastServer
        let bound: Int
        do {
            server = try SyndicastServer(configuration: configuration)
            server.reportClusterEvents(ClusterEventLog(logger: logger).report)
            server.reportSnapshotEvents { level, message in
                switch level {
                case .debug: logger.debug("snapshot: \(message)")
                case .info: logger.info("snapshot: \(message)")
                case .warning: logger.warning("snapshot: \(message)")
                case .error: logger.error("snapshot: \(message)")
                }
            }
            bound = try server.start { failure in
                // The journal is damaged: serving part of the state would be wrong, and nothing was
                // accepted yet (ingest queues behind the replay). `_exit`: the other threads are live.
                logger.critical("\(failure)", metadata: ["journal": "\(Self.journalName(configuration))"])
                _exit(1)
            }
        } catch {
            logger.critical("cannot start: \(error)")
            throw ExitCode.failure
        }
        if let warning = configuration.exposureWarning(port: bound) { logger.warning("\(warning)") }
        server.reportAPIKeyReloads { outcome in
            switch outcome {
            case .loaded(let path, let count):
                logger.info("SIGHUP: reloaded \(count) API keys from \(path)", metadata: ["file": "\(path)"])
            case .failed(let error, let kept):
                logger.error(
                    "SIGHUP: kept the previous \(kept) API keys: --api-key-file: \(error)",
                    metadata: ["file": "\(error.path)", "line": "\(error.line.map(String.init) ?? "-")"])
            }
        }
        server.reportTLSReloads { outcome in
            switch outcome {
            case .loaded(let file):
                logger.info("SIGHUP: reloaded the TLS certificate and key for new connections", metadata: ["file": "\(file)"])
            case .failed(let error):
                logger.error("SIGHUP: kept the previous TLS certificate and key: \(error)")
            }
        }
        let address = host.contains(":") ? "[\(host)]:\(bound)" : "\(host):\(bound)"
        let scheme = configuration.servesTLS ? "https" : "http"
        logger.info(
            "syndicast listening on \(scheme)://\(address)/",
            metadata: [
                "address": "\(address)", "journal": "\(Self.journalName(configuration))", "loops": "\(threads)",
                "sync": "\(sync)", "echo": "\(echo)", "broadcast": "\(broadcast)",
            ])
        if let port = configuration.metricsPort {
            logger.info("metrics on http://127.0.0.1:\(port)/metrics", metadata: ["metrics_port": "\(port)"])
        }
        let reporter = LogHealthReporter(server: server, logger: logger)
        reporter.start()
        let signal = SyndicastServer.waitForTerminationSignal()
        logger.info("stopping", metadata: ["signal": "\(signal)"])
        reporter.stop()
        switch server.stopGracefully(timeoutSeconds: Double(shutdownTimeout)) {
        case .stopped:
            logger.info("stopped")
        case .timedOut(let stage):
            logger.error(
                "stop did not finish within --shutdown-timeout \(shutdownTimeout) s: \(stage)",
                metadata: ["stage": "\(stage)", "journal": "\(Self.journalName(configuration))"])
            // Threads are still running (one may be inside a commit that never returns), so the
            // process cannot unwind normally.
            _exit(1)
        }
    }

    /// The journal's file, `memory` with `--in-memory`, or the Redis URL (no password) with `--redis`.
    static func journalName(_ configuration: ServerConfiguration) -> String {
        if let redis = configuration.redis { return redis.description }
        return configuration.dataDirectory.map { SQLiteJournal.path(in: $0) } ?? "memory"
    }
}
