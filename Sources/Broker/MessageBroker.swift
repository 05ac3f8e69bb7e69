import Monitor
import Synchronization

/// The message broker (DESIGN.md §1): owns the domain state, the global sequence number and
/// epoch, and the history ring; turns committed journal entries into events, encodes each event's
/// JSON once, and hands every sink (one per event loop) one batch per commit group.
///
/// An actor on its own thread (`BrokerExecutor`), with a second thread appending to the journal
/// (`JournalPipeline`); `shutdown()` stops and joins both. Callers never await it per request: they queue
/// commands with `submit`, and one drain job takes everything queued so far, so all the POSTs that
/// arrive during one commit share the next one (group commit) and cost one actor hop together.
public actor MessageBroker {
    public nonisolated let epoch: String
    let configuration: BrokerConfiguration
    var monitor: TransactionMonitor
    var seq: UInt64 = 0
    var history: HistoryRing
    /// The ``BrokerEvent/retainedBytes`` of the events made since the current commit group (or
    /// replayed entry) started, summed by `applyTransactions` and `applyMessage`.
    var newEventBytes = 0
    /// Idempotency index: recent transaction ids → fingerprint of their content.
    var knownIds: IdempotencyIndex
    var sinks: [BrokerSink] = []
    /// Releases the large groups the history drops (see ``releaseDroppedGroups(_:)``).
    var releaseDropped: (@Sendable (DroppedGroups) -> Void)?
    /// Appends entries durably; throws if they could not be stored. Called here for small groups
    /// when nothing is being written, otherwise by `journal` on its thread.
    let persist: @Sendable ([JournalEntry]) throws -> Void
    /// Appends large commit groups durably, on its own thread (see `JournalPipeline`).
    nonisolated let journal: JournalPipeline
    /// Groups decided and applied, waiting for the journal, oldest first.
    var awaitingJournal: [AwaitingGroup] = []
    var nextTicket: UInt64 = 0
    /// Set when persisting failed after state changed: the process must be restarted (fail-stop).
    var failed: String?
    var stats = StreamStatistics()
    /// Resumes and alerts counted for `/metrics`.
    var counts = BrokerCounts()
    /// The shared log and its reading, in cluster mode (nil in single-node mode).
    nonisolated let clusterLink: ClusterLink?
    /// Cluster mode's appends in flight and requests awaiting their entries.
    var cluster = ClusterState()

    private let executor: BrokerExecutor
    private let inbox = Mutex<Inbox>(Inbox())

    struct Inbox {
        var commands: [BrokerCommand] = []
        var draining = false
    }

    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    public init(
        monitor: TransactionMonitor, epoch: String, configuration: BrokerConfiguration = BrokerConfiguration(),
        executor: BrokerExecutor = BrokerExecutor(), persist: @escaping @Sendable ([JournalEntry]) throws -> Void
    ) {
        self.init(
            monitor: monitor, epoch: epoch, configuration: configuration, executor: executor, persist: persist, clusterLink: nil, seq: 0)
    }

    /// A broker in cluster mode on `sharedLog` (see `MessageBroker+Cluster.swift`): no local
    /// journal. `monitor`, `seq` and `startPosition` are a snapshot's (or empty, nil: the whole
    /// log); `epoch` is the stream epoch derived from `sharedLog.epoch`. Reading starts with
    /// ``startReading(caughtUp:)``, after the sinks are added. With `spikeStore` `.sharedLog`
    /// the log evaluates the spike rule (`--spike-store redis`, MessageBroker+ClusterSpikes.swift).
    public init(
        monitor: TransactionMonitor, epoch: String, configuration: BrokerConfiguration = BrokerConfiguration(),
        executor: BrokerExecutor = BrokerExecutor(), sharedLog: any SharedLog, codec: SharedLogCodec,
        startPosition: SharedLogPosition? = nil, seq: UInt64 = 0, spikeStore: SpikeStore = .monitor
    ) {
        let spikeRule = spikeStore == .sharedLog ? SharedLogSpikeRule(configuration: monitor.configuration) : nil
        let link = ClusterLink(log: sharedLog, codec: codec, startPosition: startPosition, spikeRule: spikeRule)
        self.init(
            monitor: monitor, epoch: epoch, configuration: configuration, executor: executor,
            persist: { _ in throw SharedLogError("cluster mode has no local journal") }, clusterLink: link, seq: seq)
    }

    private init(
        monitor: TransactionMonitor, epoch: String, configuration: BrokerConfiguration, executor: BrokerExecutor,
        persist: @escaping @Sendable ([JournalEntry]) throws -> Void, clusterLink: ClusterLink?, seq: UInt64
    ) {
        self.seq = seq
        self.cluster.appliedPosition = clusterLink?.startPosition
        self.monitor = monitor
        self.epoch = epoch
        self.configuration = configuration
        self.history = HistoryRing(capacity: configuration.historyCapacity, byteCapacity: configuration.historyBytes)
        // In cluster mode the window is built from the log's entries (MessageBroker+ClusterWindow).
        self.knownIds = IdempotencyIndex(capacity: configuration.idempotencyWindow)
        self.executor = executor
        self.persist = persist
        self.clusterLink = clusterLink
        self.journal = JournalPipeline(persist: persist)
        journal.notify = { [weak self] in self?.submit(.journalled) }
    }

    /// Adds a sink that receives every later batch.
    public func addSink(_ sink: BrokerSink) {
        sinks.append(sink)
    }

    /// Hands the large commit groups the history drops to `release`, on the broker's thread, so
    /// that they can be released on the thread that allocated their transactions (see
    /// ``DroppedGroups``). Without it they are released on the broker's thread.
    public func releaseDroppedGroups(_ release: @escaping @Sendable (DroppedGroups) -> Void) {
        releaseDropped = release
    }

    /// The current sequence number.
    public var currentSeq: UInt64 { seq }

    /// Read access to the domain state (for queries inside `query`).
    public var state: TransactionMonitor { monitor }

    /// Whether a journal failure stopped ingest.
    public var failure: String? { failed }

    /// Refuses every later write with 503 (`reason` is the message).
    public func stopIngest(_ reason: String) {
        failed = reason
    }

    /// Stops the broker's two threads: runs every command queued so far, lets the journal
    /// pipeline write what it holds, then joins both threads. Commands queued later are
    /// dropped. Call from a thread that is neither (the server's stop path does, after the
    /// event loops are joined). In cluster mode it first stops reading the shared log and answers
    /// every request still waiting for the log `unavailable`.
    public nonisolated func shutdown() {
        if clusterLink != nil {
            stopReading()
            submit(.cluster(.stop))
        }
        executor.shutdown()
        journal.shutdown()
    }

    // MARK: Queueing (any thread)

    /// Queues an ingest request; `reply` runs on the broker thread once it is decided.
    public nonisolated func ingest(_ transactions: [Transaction], reply: @escaping @Sendable (IngestOutcome) -> Void) {
        submit(.ingest(transactions, .closure(reply)))
    }

    /// Queues an ingest request whose outcome goes to `target` together with the other outcomes
    /// for that target in the same commit group.
    public nonisolated func ingest(_ transactions: [Transaction], target: IngestReplyTarget, token: any Sendable) {
        submit(.ingest(transactions, .batched(target, token: token)))
    }

    /// Queues several requests at once (one lock and at most one wake-up for all of them); each
    /// outcome goes to `target` with its token.
    public nonisolated func ingest(_ requests: [IngestRequest], target: IngestReplyTarget) {
        guard !requests.isEmpty else { return }
        submit(.ingestBatch(requests, target))
    }

    /// Queues a message for a custom topic.
    public nonisolated func publish(topic: String, data: [UInt8], reply: @escaping @Sendable (PublishOutcome) -> Void) {
        submit(.publish(topic: topic, data: data, reply))
    }

    /// Queues a subscription start.
    public nonisolated func subscribe(_ request: SubscriptionRequest) {
        submit(.subscribe(request))
    }

    /// Queues a stats tick (about once a second).
    public nonisolated func tick(connections: Int, now: Int64) {
        submit(.tick(connections: connections, now: now))
    }

    /// Runs `body` on the broker, in order with everything queued before it.
    public nonisolated func query(_ body: @escaping @Sendable (isolated MessageBroker) -> Void) {
        submit(.query(body))
    }

    nonisolated func submit(_ command: BrokerCommand) {
        let startDrain = inbox.withLock { inbox in
            inbox.commands.append(command)
            if inbox.draining { return false }
            inbox.draining = true
            return true
        }
        if startDrain {
            // One drain per burst of commands, entered directly on the broker's own thread.
            executor.execute { self.assumeIsolated { $0.drain() } }
        }
    }

    /// Takes everything queued, processes it, and repeats until the inbox is empty.
    private func drain() {
        while true {
            let commands = inbox.withLock { inbox -> [BrokerCommand] in
                let taken = inbox.commands
                inbox.commands = []
                if taken.isEmpty { inbox.draining = false }
                return taken
            }
            if commands.isEmpty { return }
            process(commands)
        }
    }

    /// Writes are grouped into one commit until a read-type command needs the state they produce
    /// or the group holds `groupTransactionLimit` transactions.
    /// A read first waits for the journal to store every group already applied, so what it sees
    /// (a snapshot, a query's answer) never runs ahead of what has been published.
    private func process(_ commands: [BrokerCommand]) {
        if let clusterLink {
            processClustered(commands, link: clusterLink)
            return
        }
        var writes: [BrokerCommand] = []
        var writtenTransactions = 0
        func commitWrites() {
            guard !writes.isEmpty else { return }
            commitGroup(writes, transactionCount: writtenTransactions)
            writes = []
            writtenTransactions = 0
        }
        for command in commands {
            if command.isWrite {
                writes.append(command)
                writtenTransactions += command.transactionCount
                if writtenTransactions >= Self.groupTransactionLimit { commitWrites() }
                continue
            }
            if case .journalled = command {
                finishJournalled()
                continue
            }
            commitWrites()
            waitForJournal()
            switch command {
            case .subscribe(let request): startSubscription(request)
            case .tick(let connections, let now): publishStats(connections: connections, now: now)
            case .query(let body): body(self)
            case .ingest, .ingestBatch, .publish, .journalled, .cluster: break
            }
        }
        commitWrites()
    }
}
