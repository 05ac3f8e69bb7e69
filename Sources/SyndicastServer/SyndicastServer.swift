import Broker
import CLinux
import Glibc
import Journal
import Monitor
import Reactor

/// The composed server: journal, broker, event loops, listeners, routes, sessions, graceful stop.
public final class SyndicastServer: Sendable {
    public let configuration: ServerConfiguration
    let group: EventLoopGroup
    let context: ServerContext
    let journal: JournalBox
    /// The journal's file path, for error messages.
    let journalName: String
    private let shutdown = ShutdownFlag()

    /// Opens the journal and creates the loops and the broker; nothing is bound until `start()`.
    public init(configuration: ServerConfiguration) throws {
        self.configuration = configuration
        let journal: Journal
        // A journal write past the file size limit (RLIMIT_FSIZE) must fail like a full disk
        // (503, fail-stop) rather than kill the process with SIGXFSZ.
        clinux_ignore_sigxfsz()
        if let directory = configuration.dataDirectory {
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
        let box = JournalBox(journal)
        self.journal = box
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
        let broker = Broker(
            monitor: Monitor(configuration: configuration.monitor),
            epoch: StreamEpoch.derive(journalEpoch: journal.epoch, rules: configuration.monitor),
            configuration: brokerConfiguration
        ) { entries in
            try box.journal.append(entries.map(JournalEntry.init))
        }
        let context = ServerContext(configuration: configuration, broker: broker, group: group, shutdown: shutdown)
        self.context = context
        for loop in group.loops {
            // Installed before the loop threads start; afterwards touched only on each loop.
            loop.context = LoopContext()
        }
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
        let port = try group.listen(host: configuration.host, port: configuration.port) { _ in
            HTTPSession(context: context)
        }
        group.start()
        let fanout = LoopFanout(loops: group.loops, counters: context.counters, epoch: context.broker.epoch)
        let journal = self.journal
        let journalName = self.journalName
        context.broker.query { broker in
            broker.addSink(fanout)
            broker.releaseDroppedGroups { fanout.release($0) }
            do {
                try journal.journal.replay { entry in broker.replay(LogEntry(entry)) }
                context.ready.store(true, ordering: .relaxed)
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
    /// wait (bounded) for clients to go, then stop the loops and close the journal.
    public func stopGracefully() {
        shutdown.set()
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
        let deadline = monotonicMilliseconds() + Int64(configuration.shutdownGraceSeconds) * 1_000 + 500
        while group.openConnections > 0 && monotonicMilliseconds() < deadline {
            usleep(5_000)
        }
        group.stopAndWait()
        // Let the broker finish what is queued, then close the journal on its thread.
        let closed = ShutdownFlag()
        let journal = self.journal
        context.broker.query { _ in
            journal.journal.close()
            closed.set()
        }
        let closeDeadline = monotonicMilliseconds() + 5_000
        while !closed.isSet && monotonicMilliseconds() < closeDeadline { usleep(2_000) }
    }

    /// Blocks SIGINT and SIGTERM in every thread started after this call, so that
    /// `waitForTerminationSignal` receives them synchronously. Call before `init`.
    public static func blockTerminationSignals() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Waits for SIGINT or SIGTERM and returns its number.
    public static func waitForTerminationSignal() -> Int32 {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        var signal: Int32 = 0
        sigwait(&set, &signal)
        return signal
    }
}

/// The server could not start; `description` says why (for the operator, on stderr).
public struct StartupError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// The journal, used only on the broker's thread (SQLite connection opened without a mutex).
final class JournalBox: @unchecked Sendable {
    let journal: Journal
    init(_ journal: Journal) { self.journal = journal }
}

extension LogEntry {
    init(_ entry: JournalEntry) {
        switch entry {
        case .transactions(let transactions): self = .transactions(transactions)
        case .message(let topic, let data): self = .message(topic: topic, data: data)
        }
    }
}

extension JournalEntry {
    init(_ entry: LogEntry) {
        switch entry {
        case .transactions(let transactions): self = .transactions(transactions)
        case .message(let topic, let data): self = .message(topic: topic, data: data)
        }
    }
}
