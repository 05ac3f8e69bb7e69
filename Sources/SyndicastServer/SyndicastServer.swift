import Broker
import CLinux
import Glibc
import Journal
import Monitor
import Reactor
import Synchronization

/// The composed server: journal, broker, event loops, listeners, routes, sessions, graceful stop.
public final class SyndicastServer: Sendable {
    public let configuration: ServerConfiguration
    let group: EventLoopGroup
    let context: ServerContext
    let journal: any JournalStore
    /// The journal's file path, for error messages.
    let journalName: String
    /// `--tls-cert`/`--tls-key`, nil for plain text.
    let tls: ServerTLS?
    /// `--redis`: the shared log (cluster mode), nil for a single node.
    let cluster: ServerCluster?
    /// Cluster mode: the broker counters of the snapshot the state starts from (restored on the
    /// broker's thread before the stream is read).
    let restoredBroker: BrokerSnapshot?
    private let shutdown = ShutdownFlag()

    /// Opens the journal and creates the loops and the broker; nothing is bound until `start()`.
    public convenience init(configuration: ServerConfiguration) throws {
        try self.init(configuration: configuration, journal: nil)
    }

    /// Like ``init(configuration:)``, with `injected` as the journal when given (tests use a
    /// journal whose commits block, to check that the stop is bounded).
    init(configuration: ServerConfiguration, journal injected: (any JournalStore)?) throws {
        self.configuration = configuration
        // A bad key file refuses the start before anything is opened (file and line, no key).
        var fileKeys: [APIKey] = []
        if let path = configuration.apiKeyFile {
            do { fileKeys = try APIKeyFile.load(path) } catch { throw StartupError("--api-key-file: \(error)") }
        }
        let metrics = ServerMetrics(loopCount: max(configuration.threads, 1))
        // Bad TLS files (or only one of the pair) refuse the start, before the journal is opened.
        let wantsTLS = configuration.tlsCertificateFile != nil || configuration.tlsKeyFile != nil
        tls = wantsTLS ? try ServerTLS(configuration: configuration, metrics: metrics) : nil
        // Cluster mode: Redis must answer at start (connect timeout), or the start is refused.
        let cluster = try configuration.redis.map { try ServerCluster(configuration: configuration, redis: $0, registry: metrics.registry) }
        self.cluster = cluster
        let journal: any JournalStore
        // A journal write past the file size limit (RLIMIT_FSIZE) must fail like a full disk
        // (503, fail-stop) rather than kill the process with SIGXFSZ.
        clinux_ignore_sigxfsz()
        if let injected {
            journal = injected
            journalName = "the injected journal"
        } else if let cluster {
            // Cluster mode opens no local journal: the broker appends to the shared log.
            journal = InMemoryJournal()
            journalName = cluster.url
        } else if let directory = configuration.dataDirectory {
            let path = SQLiteJournal.path(in: directory)
            do {
                journal = try SQLiteJournal(directory: directory, synchronous: configuration.synchronous)
            } catch {
                let code = error.sqliteCode.map { " (SQLite code \($0))" } ?? ""
                let detail = error.message.hasPrefix(path) ? String(error.message.dropFirst(path.count)) : " " + error.message
                throw StartupError("cannot open the journal \(path):\(detail)\(code)")
            }
            journalName = path
        } else {
            journal = InMemoryJournal()
            journalName = "the in-memory journal"
        }
        self.journal = journal
        // One outbound rule for every connection (DESIGN.md §6): past the soft bound a connection's
        // input is paused until its queue drains, so replies (HTTP responses, pongs, acks, errors)
        // cannot pile up; only events go on past it, up to `--outbound-limit` (then 4008). Kept at
        // most half the hard bound, so the replies to a subscriber's own requests (at most one
        // 64 KiB slice of them past the soft bound) do not by themselves get it closed.
        let group = try EventLoopGroup(
            threads: configuration.threads, connectionLimit: configuration.connectionLimit,
            outboundSoftLimit: min(EventLoopGroup.defaultOutboundSoftLimit, configuration.outboundLimit / 2))
        self.group = group
        var brokerConfiguration = configuration.broker
        brokerConfiguration.replayByteLimit = configuration.outboundLimit
        if cluster != nil {
            brokerConfiguration.idempotencyLifetimeMilliseconds = UInt64(max(1, configuration.redisIdempotencyTTLSeconds)) * 1_000
        }
        let broker: MessageBroker
        var restoredBroker: BrokerSnapshot?
        if let cluster {
            let snapshot = cluster.loadSnapshot(configuration: configuration.monitor)
            broker = MessageBroker(
                monitor: snapshot?.monitor ?? TransactionMonitor(configuration: configuration.monitor),
                // Instances on another spike store raise other alerts: another history of events.
                epoch: StreamEpoch.derive(
                    journalEpoch: cluster.log.epoch + (configuration.spikeStore == .sharedLog ? "+redis-spikes" : ""),
                    rules: configuration.monitor),
                configuration: brokerConfiguration, sharedLog: cluster.log, codec: ServerCluster.codec,
                startPosition: snapshot?.position, seq: snapshot?.broker.seq ?? 0, spikeStore: configuration.spikeStore)
            restoredBroker = snapshot?.broker
        } else {
            broker = MessageBroker(
                monitor: TransactionMonitor(configuration: configuration.monitor),
                epoch: StreamEpoch.derive(journalEpoch: journal.epoch, rules: configuration.monitor),
                configuration: brokerConfiguration
            ) { entries in
                let started = monotonicNanoseconds()
                try journal.append(entries)
                metrics.journalCommitted(entries, nanoseconds: monotonicNanoseconds() - started)
            }
        }
        self.restoredBroker = restoredBroker
        self.context = ServerContext(
            configuration: configuration, broker: broker, shutdown: shutdown, loops: group.loops,
            openConnections: { group.openConnections }, metrics: metrics, cluster: cluster)
        context.routing.policy.keys.install(fileKeys)
        // Read once here (and on SIGHUP), never by the event loops per request.
        StaticFilesLoader.reload(context.routing.staticFiles)
    }

    /// Binds, starts the loops, and replays the journal into the broker (`/readyz` turns ready
    /// when done; requests that arrive meanwhile queue behind the replay). Returns the bound port.
    ///
    /// If the replay fails (a damaged journal), ingest is refused and `replayFailed` is called on
    /// the broker's thread with a message naming the file and the error: the server holds only
    /// part of the state, so `syndicast serve` exits non-zero rather than serve it.
    @discardableResult
    public func start(replayFailed: @escaping @Sendable (String) -> Void = { _ in }) throws -> Int {
        let context = self.context
        for loop in group.loops {
            loop.execute { CurrentLoop.enter(loop) }
        }
        let port = try group.listen(host: configuration.host, port: configuration.port, tls: tls?.acceptor) { loop in
            CurrentLoop.enter(loop)
            return HTTPSession(context: context)
        }
        try startMetrics()
        group.start()
        let reload: @Sendable () -> Void = { [weak self] in
            guard let self else { return }
            print("SIGHUP: reloaded \(reloadStaticFiles()) static files from \(context.routing.staticFiles.root)")
            fflush(nil)
            reloadAPIKeys()
            reloadTLS()
        }
        Self.hangupHandlers.withLock { $0[ObjectIdentifier(self)] = reload }
        let fanout = LoopFanout(loops: context.loops, counters: context.counters, epoch: context.broker.epoch)
        let journal = self.journal
        let journalName = self.journalName
        let restoredBroker = self.restoredBroker
        let cluster = self.cluster
        context.broker.query { broker in
            broker.addSink(fanout)
            broker.releaseDroppedGroups { fanout.release($0) }
            if broker.isClustered {
                if let restoredBroker { broker.restore(restoredBroker) }
                // Ready once every entry the stream held at start is applied.
                broker.startReading { context.lifecycle.ready.store(true, ordering: .relaxed) }
                cluster?.snapshots.start(broker: context.broker)
                return
            }
            do {
                try journal.replay { entry in broker.replay(entry) }
                context.lifecycle.ready.store(true, ordering: .relaxed)
            } catch {
                let reason = "journal replay failed: \(journalName): \(error)"
                broker.stopIngest(reason)
                replayFailed(reason)
            }
        }
        if let first = group.loops.first {
            first.execute {
                first.every(milliseconds: 1_000) {
                    context.broker.tick(connections: context.counters.streamSubscribers, now: monotonicMilliseconds())
                }
            }
        }
        return port
    }

    /// Connections open right now.
    public var openConnections: Int { group.openConnections }

    /// DESIGN.md §6: stop accepting, let in-flight requests finish, close WebSockets with 1001,
    /// wait (bounded) for clients to go, then stop and join the loops, close the journal, and
    /// stop and join the broker's threads. No thread the server started is left when it returns.
    ///
    /// Not bounded as a whole (a commit stuck in fsync holds it up):
    /// ``stopGracefully(timeoutSeconds:)`` is.
    public func stopGracefully() {
        stopGracefully(connectionWaitMilliseconds: configuration.shutdownGraceSeconds * 1_000 + 500) { _ in }
    }

    /// The stop sequence; `reach` is told each stage as it begins (see ``StopStage``).
    func stopGracefully(connectionWaitMilliseconds: Int, reach: @escaping @Sendable (StopStage) -> Void) {
        reach(.connections)
        shutdown.set()
        _ = Self.hangupHandlers.withLock { $0.removeValue(forKey: ObjectIdentifier(self)) }
        for loop in group.loops {
            loop.execute {
                loop.closeListeners()
                loop.forEachConnection { connection in
                    switch connection.handler {
                    case let session as WebSocketSession: session.beginShutdown()
                    case let session as ServerSentEventsSession: session.beginShutdown()
                    case let session as HTTPSession: session.beginShutdown(connection)
                    default: connection.close()
                    }
                }
            }
        }
        _ = group.waitUntilNoConnections(timeoutMilliseconds: connectionWaitMilliseconds)
        reach(.eventLoops)
        group.stopAndWait()
        // The broker finishes what is queued (a query first waits for the journal pipeline to
        // write every group), closes the journal on its thread, then both threads are joined.
        reach(.commits)
        let journal = self.journal
        context.broker.query { _ in
            reach(.journalClose)
            journal.close()
            reach(.brokerThreads)
        }
        cluster?.snapshots.stop()
        context.broker.shutdown()
        cluster?.log.close()
        reach(.finished)
    }

    /// Reads the static files (`--static-dir`) again and serves the new set from now on;
    /// returns how many files there are. `waitForTerminationSignal` calls it on SIGHUP.
    @discardableResult
    public func reloadStaticFiles() -> Int {
        StaticFilesLoader.reload(context.routing.staticFiles)
    }

    /// What SIGHUP runs: each started server's `reloadStaticFiles`, `reloadAPIKeys` and `reloadTLS` (keyed by server).
    private static let hangupHandlers = Mutex<[ObjectIdentifier: @Sendable () -> Void]>([:])

    /// The signals `waitForTerminationSignal` handles: SIGINT and SIGTERM stop, SIGHUP reloads.
    private static func handledSignals() -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGHUP)
        return set
    }

    /// Blocks SIGINT, SIGTERM and SIGHUP in every thread started after this call, so that
    /// `waitForTerminationSignal` receives them synchronously. Call before `init`.
    public static func blockTerminationSignals() {
        var set = handledSignals()
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Waits for SIGINT or SIGTERM and returns its number. A SIGHUP meanwhile reloads every
    /// started server's static files (on the calling thread, off the event loops) and prints
    /// one line saying how many were loaded, then its `--api-key-file` (``reloadAPIKeys()``) and TLS pair (``reloadTLS()``).
    public static func waitForTerminationSignal() -> Int32 {
        var set = handledSignals()
        while true {
            var signal: Int32 = 0
            guard sigwait(&set, &signal) == 0 else { return SIGTERM }
            guard signal == SIGHUP else { return signal }
            for reload in hangupHandlers.withLock({ Array($0.values) }) {
                reload()
            }
        }
    }
}

/// The server could not start; `description` says why (for the operator, on stderr).
public struct StartupError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
