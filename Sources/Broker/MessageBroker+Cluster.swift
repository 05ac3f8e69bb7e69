import Monitor

/// Cluster mode (issue 15, CLUSTER-CONTRACT.md): the broker appends its commit groups to a
/// ``SharedLog`` and applies every entry of the log, its own and other instances', in log order,
/// so every instance assigns the same sequence numbers to the same events.
///
/// A commit group is the writes gathered while the previous append was in flight (as the journal
/// pipeline groups them in single-node mode): one `append` for all of them. Refused (409) and
/// all-duplicate requests are answered from the append's outcome; the others when this broker
/// applies the entry, with the sequence numbers applying it gave. A failed append answers 503 and
/// changes nothing: the log is the truth, so the broker is not fail-stop here. The local journal
/// and the journal pipeline are unused; the idempotency index is the window the log's entries
/// build (`MessageBroker+ClusterWindow.swift`).
extension MessageBroker {
    /// Whether the broker has applied every entry the log held when reading started (`/readyz`).
    /// Always true in single-node mode.
    public nonisolated var isCaughtUp: Bool {
        clusterLink?.caughtUp.load(ordering: .acquiring) ?? true
    }

    /// Whether the broker runs on a shared log.
    public nonisolated var isClustered: Bool { clusterLink != nil }

    /// The position of the last entry applied (with ``currentSeq`` and ``state``, read in one
    /// ``query(_:)``, what a snapshot records).
    public var appliedPosition: SharedLogPosition? { cluster.appliedPosition }

    /// Appends, failures and entries applied so far.
    public var clusterStatistics: ClusterStatistics { cluster.statistics }

    /// Starts reading the shared log after the start position given at `init`: entries are
    /// applied in order, their events go to the history and to the sinks added so far, and
    /// ``isCaughtUp`` turns true once the log's entries at this moment are applied; then
    /// `caughtUp` runs on the broker's thread (the server marks itself ready there, as after a
    /// journal replay). Call once, after adding the sinks. Does nothing in single-node mode.
    public nonisolated func startReading(caughtUp: @escaping @Sendable () -> Void = {}) {
        guard let link = clusterLink, !link.stopped.load(ordering: .acquiring) else { return }
        link.onCaughtUp.withLock { $0 = caughtUp }
        let codec = link.codec
        let reading = link.log.read(after: link.startPosition) { [weak self] delivery in
            switch delivery {
            case .entry(let entry):
                // Decoded here, on the reading's thread, not on the broker's.
                // An entry whose payload or skip list is damaged is skipped as a whole.
                let entries = entry.skip == nil ? nil : try? codec.decode(entry.payload)
                self?.submit(
                    .cluster(
                        .entry(
                            entry.position, entries: entries, skip: entry.skip ?? SharedLogSkipSet(), spikes: entry.spikes,
                            records: entry.records)))
            case .caughtUp:
                self?.submit(.cluster(.caughtUp))
            }
        }
        link.reading.withLock { $0 = reading }
    }

    /// Stops reading the log (shutdown).
    nonisolated func stopReading() {
        guard let link = clusterLink else { return }
        link.stopped.store(true, ordering: .releasing)
        let reading = link.reading.withLock { reading in
            defer { reading = nil }
            return reading
        }
        reading?.cancel()
    }

    /// `process` in cluster mode: writes gather for the next append; a read first sends the
    /// writes gathered before it (unless an append is in flight), as single-node mode commits
    /// them, then runs at once: it sees what is applied, which is all that has been answered.
    func processClustered(_ commands: [BrokerCommand], link: ClusterLink) {
        for command in commands {
            switch command {
            case .ingest, .ingestBatch, .publish:
                cluster.gathered.append(command)
                continue
            case .cluster(let clusterCommand):
                handle(clusterCommand, link: link)
                continue
            default:
                break
            }
            if !cluster.stopping { startAppendIfIdle(link) }
            switch command {
            case .subscribe(let request): startSubscription(request)
            case .tick(let connections, let now): publishStats(connections: connections, now: now)
            case .query(let body): body(self)
            case .ingest, .ingestBatch, .publish, .cluster, .journalled: break
            }
        }
        if cluster.stopping {
            refuseWaiting()
        } else {
            startAppendIfIdle(link)
        }
    }

    /// Answers every request not answered yet `unavailable` (shutdown): the gathered writes, the
    /// group in flight, and those waiting for their entries.
    private func refuseWaiting() {
        let reason = "the server is stopping"
        var replies: [Decided.Reply] = []
        for write in cluster.gathered {
            switch write {
            case .ingest(_, let reply): replies.append(.ingest(reply))
            case .ingestBatch(let batch, let target): replies += batch.map { .ingest(.batched(target, token: $0.token)) }
            case .publish(_, _, let reply): replies.append(.publish(reply))
            default: break
            }
        }
        replies += cluster.inFlight?.pending.map(\.reply) ?? []
        for position in cluster.awaiting.keys.sorted() { replies += cluster.awaiting[position]?.map(\.reply) ?? [] }
        cluster.gathered = []
        cluster.inFlight = nil
        cluster.awaiting = [:]
        answerUnavailable(replies, reason)
    }

    private func handle(_ command: ClusterCommand, link: ClusterLink) {
        switch command {
        case .appended(let result, let group):
            guard !cluster.stopping else { return }
            cluster.inFlight = nil
            cluster.statistics.appends += 1
            if case .failure = result { cluster.statistics.appendFailures += 1 }
            finishAppend(result, group)
            cluster.recentlyApplied = [:]
            startAppendIfIdle(link)
        case .entry(let position, let entries, let skip, let spikes, let records):
            applyLogEntry(position, entries: entries, skip: skip, spikes: spikes, records: records)
        case .caughtUp:
            link.caughtUp.store(true, ordering: .releasing)
            link.onCaughtUp.withLock { $0 }?()
        case .stop:
            cluster.stopping = true
        }
    }

    /// Sends the gathered writes as one append, unless one is in flight or this broker's own last
    /// entry is not applied yet (for at most `ownEntryWait`). Requests that need no log are
    /// answered here: invalid, empty, ingest stopped, a conflict or all duplicates in the window.
    func startAppendIfIdle(_ link: ClusterLink) {
        guard !cluster.appendInFlight, !cluster.gathered.isEmpty else { return }
        if let pending = cluster.ownEntryPending {
            guard ContinuousClock.now - pending.since >= configuration.ownEntryWait else { return }
            cluster.ownEntryPending = nil
        }
        let writes = takeGroup()
        var entries: [JournalEntry] = []
        var requests: [SharedLogRequest] = []
        var pending: [ClusterPending] = []
        var immediate: [Decided] = []
        var window = GroupWindowCheck(records: link.log.records)
        func add(_ transactions: [Transaction], _ reply: IngestReplier) {
            let decided: IngestOutcome
            if let failed {
                decided = .unavailable(failed)
            } else if transactions.isEmpty {
                decided = .accepted(accepted: 0, duplicates: 0, firstSeq: nil, lastSeq: nil)
            } else if let invalid = monitor.validate(TransactionBatch(transactions)).nonEmpty {
                decided = .invalid(invalid)
            } else {
                switch window.check(transactions, against: knownIds) {
                case .conflict(let details):
                    decided = .idConflict(details)
                case .allDuplicates:
                    decided = .accepted(accepted: 0, duplicates: transactions.count, firstSeq: nil, lastSeq: nil)
                case .append(let request):
                    entries.append(.transactions(transactions))
                    requests.append(request)
                    pending.append(ClusterPending(reply: .ingest(reply), transactions: transactions, isMessage: false))
                    return
                }
            }
            immediate.append(Decided(reply: .ingest(reply), outcome: .ingest(decided)))
        }
        for write in writes {
            switch write {
            case .ingest(let transactions, let reply):
                add(transactions, reply)
            case .ingestBatch(let batch, let target):
                for index in batch.indices { add(batch[index].transactions, .batched(target, token: batch[index].token)) }
            case .publish(let topic, let data, let reply):
                if let failed {
                    immediate.append(Decided(reply: .publish(reply), outcome: .publish(.unavailable(failed))))
                } else {
                    entries.append(.message(topic: topic, data: data))
                    requests.append(.message)
                    pending.append(ClusterPending(reply: .publish(reply), transactions: [], isMessage: true))
                }
            default:
                break
            }
        }
        answer(immediate)
        guard !pending.isEmpty else { return }
        let appended = AppendedGroup(pending: pending)
        cluster.inFlight = appended
        let group = SharedLogGroup(
            payload: link.codec.encode(entries), requests: requests, after: cluster.appliedPosition, repeatsIds: window.repeatsIds,
            spikeRule: link.spikeRule)
        link.log.append(group: group) { [weak self] result in
            self?.submit(.cluster(.appended(result, appended)))
        }
    }

    /// The gathered writes for the next append, oldest first, up to
    /// `BrokerConfiguration.groupTransactions` transactions (a larger single write goes alone); the rest
    /// stay gathered for the append after it. Bounded groups keep each entry's records, which
    /// another instance's call may have to check, within the ingest script's limit of ids after a
    /// caller's position.
    private func takeGroup() -> [BrokerCommand] {
        var count = 0
        var taken = 0
        for write in cluster.gathered {
            let size =
                switch write {
                case .ingest(let transactions, _): transactions.count
                case .ingestBatch(let batch, _): batch.reduce(0) { $0 + $1.transactions.count }
                default: 1
                }
            if taken > 0 && count + size > configuration.groupTransactions { break }
            count += size
            taken += 1
        }
        let writes = Array(cluster.gathered.prefix(taken))
        cluster.gathered.removeFirst(taken)
        return writes
    }

    /// Answers an append's refused and all-duplicate requests, and lines the rest up for the
    /// entry's application (or answers them now if it was applied before the append completed).
    private func finishAppend(_ result: Result<SharedLogAppendResult, SharedLogError>, _ group: AppendedGroup) {
        let appended: SharedLogAppendResult
        switch result {
        case .failure(let error):
            answerUnavailable(group.pending.map(\.reply), "shared log append failed: \(error)")
            return
        case .success(let success) where success.requests.count != group.pending.count:
            answerUnavailable(
                group.pending.map(\.reply), "shared log reply has \(success.requests.count) outcomes for \(group.pending.count) requests")
            return
        case .success(let success):
            appended = success
        }
        var immediate: [Decided] = []
        var waiting: [ClusterWaiting] = []
        for (index, item) in group.pending.enumerated() {
            switch appended.requests[index] {
            case .conflict(let indices):
                let details = indices.map { conflicting in
                    let id = conflicting < item.transactions.count ? item.transactions[conflicting].id ?? "" : ""
                    return TransactionValidationError.Detail(
                        index: conflicting, field: "id", reason: "id \"\(id)\" was already used with different content")
                }
                immediate.append(Decided(reply: item.reply, outcome: .ingest(.idConflict(details))))
            case .accepted(let duplicates) where !item.isMessage && duplicates >= item.transactions.count:
                let outcome = IngestOutcome.accepted(accepted: 0, duplicates: duplicates, firstSeq: nil, lastSeq: nil)
                immediate.append(Decided(reply: item.reply, outcome: .ingest(outcome)))
            case .accepted(let duplicates):
                waiting.append(ClusterWaiting(request: index, reply: item.reply, duplicates: duplicates))
            }
        }
        answer(immediate)
        guard !waiting.isEmpty else { return }
        guard let position = appended.position else {
            answerUnavailable(waiting.map(\.reply), "the shared log appended nothing for accepted requests")
            return
        }
        if let applied = cluster.recentlyApplied[position] {
            answer(Self.answers(waiting, applied))
        } else if let last = cluster.appliedPosition, position <= last {
            answerUnavailable(waiting.map(\.reply), "the shared log entry \(position) was applied before its append completed")
        } else {
            cluster.awaiting[position] = waiting
            cluster.ownEntryPending = (position, ContinuousClock.now)
        }
    }
}

extension Array {
    /// Self, or nil when empty.
    fileprivate var nonEmpty: Self? { isEmpty ? nil : self }
}
