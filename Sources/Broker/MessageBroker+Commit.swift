import Monitor

/// A decided write waiting for its group's commit.
struct Decided {
    var reply: Reply
    var outcome: Outcome

    enum Reply {
        case ingest(IngestReplier)
        case publish(@Sendable (PublishOutcome) -> Void)
    }

    enum Outcome {
        case ingest(IngestOutcome)
        case publish(PublishOutcome)
    }
}

/// A commit group that is decided and applied, waiting for the journal to store it before its
/// events are published and its requests answered.
struct AwaitingGroup {
    let ticket: UInt64
    let decided: [Decided]
    let events: [BrokerEvent]
    /// The events' ``BrokerEvent/retainedBytes``, summed as they were made.
    let retainedBytes: Int
    /// The sequence number before the group, restored if it cannot be stored.
    let seqBefore: UInt64
}

extension MessageBroker {
    /// Groups with fewer transactions than this are appended on the broker's thread when the
    /// journal thread is idle. Handing a group over costs two thread wake-ups, which is what a
    /// small group's append costs in CPU: under single-transaction POSTs (groups of up to 64) the
    /// hand-over raised the server's CPU per request by ~15% and overlapped nothing, as the
    /// decisions of a small group take far less time than its fsync. Large groups (NDJSON) are
    /// handed over, and deciding the next one overlaps the append and fsync of this one.
    public static let inlineAppendLimit = 256

    /// A commit group is closed once it holds this many transactions, and the rest of the drain
    /// starts the next one: the journal thread starts writing the first part while the broker
    /// decides the rest, rather than waiting for a whole drain of NDJSON batches (durable NDJSON
    /// with eager hand-offs from the loops: median ~0.87 against ~0.80 M tx/s, within this
    /// machine's noise on its own, so it stands for the overlap it gives, not a proven gain;
    /// `loadtest/run.sh ingest --batch 1000`).
    static let groupTransactionLimit = 4_096

    /// One commit group: decide every write against the state (idempotency, overflow), apply the
    /// accepted ones, and store their entries; once they are stored, publish the events and reply.
    /// A large group goes to the journal thread (`finishJournalled` completes it) and the next
    /// group is decided meanwhile.
    ///
    /// State is applied before the append so that each request is decided against everything
    /// before it, in this group and in the groups still being written. If an append fails the
    /// state is ahead of the journal: the broker refuses all further writes (`failed`) and every
    /// request of that group and of every later one is answered `unavailable`, so nothing is published that is not
    /// durable; a restart replays the journal and is consistent.
    /// `transactionCount` is the sum of the writes' `transactionCount`s (the caller counts them
    /// as it gathers the group).
    func commitGroup(_ writes: [BrokerCommand], transactionCount: Int) {
        var decided: [Decided] = []
        var entries: [JournalEntry] = []
        var events: [BrokerEvent] = []
        // A transaction event each, and room for some alerts: growing the array by doubling
        // (copying it each time) costs ~2% of the broker's time under NDJSON ingest.
        events.reserveCapacity(transactionCount * 3 / 2 + 4)
        let seqBefore = seq
        newEventBytes = 0
        for write in writes {
            switch write {
            case .ingest(let transactions, let reply):
                let outcome =
                    failed.map { IngestOutcome.unavailable($0) }
                    ?? decideIngest(
                        transactions, digests: TransactionDigest.of(transactions), entries: &entries, events: &events)
                decided.append(Decided(reply: .ingest(reply), outcome: .ingest(outcome)))
            case .ingestBatch(let requests, let target):
                for index in requests.indices {
                    // The idempotency table is tens of megabytes: each request's first probe is a
                    // cache miss unless started early. Within a request `decideIngest` prefetches
                    // ahead; across single-transaction requests this does (an unprefetched probe
                    // is ~10% of the broker's time under single-transaction POSTs, `wrk`).
                    let ahead = index + IdempotencyIndex.prefetchDistance
                    if ahead < requests.count, let key = requests[ahead].digests.first?.key { knownIds.prefetch(key) }
                    let outcome =
                        failed.map { IngestOutcome.unavailable($0) }
                        ?? decideIngest(
                            requests[index].transactions, digests: requests[index].digests, entries: &entries, events: &events)
                    decided.append(
                        Decided(reply: .ingest(.batched(target, token: requests[index].token)), outcome: .ingest(outcome)))
                }
            case .publish(let topic, let data, let reply):
                var outcome = PublishOutcome.unavailable(failed ?? "")
                if failed == nil {
                    entries.append(.message(topic: topic, data: data))
                    outcome = .published(seq: applyMessage(topic: topic, data: data, into: &events))
                }
                decided.append(Decided(reply: .publish(reply), outcome: .publish(outcome)))
            default:
                break
            }
        }
        if awaitingJournal.isEmpty && (entries.isEmpty || transactionCount < Self.inlineAppendLimit) {
            // Nothing being written before it: store it here (if it has anything to store).
            do {
                if !entries.isEmpty { try persist(entries) }
                publish(events, retainedBytes: newEventBytes)
                answer(decided)
            } catch {
                refuse(decided, failure: "\(error)", seqBefore: seqBefore)
            }
            return
        }
        // Even a group with nothing to store waits for the groups before it: a duplicate must
        // not be confirmed before its original is durable.
        nextTicket += 1
        awaitingJournal.append(
            AwaitingGroup(ticket: nextTicket, decided: decided, events: events, retainedBytes: newEventBytes, seqBefore: seqBefore))
        journal.submit(ticket: nextTicket, entries: entries)
    }

    /// Publishes and answers the groups the journal has finished, in order.
    func finishJournalled() {
        let completions = journal.takeCompleted()
        guard !completions.isEmpty else { return }
        for (completion, group) in zip(completions, awaitingJournal) {
            precondition(group.ticket == completion.ticket, "journal completions out of order")
            if let failure = completion.failure {
                refuse(group.decided, failure: failure, seqBefore: group.seqBefore)
            } else {
                publish(group.events, retainedBytes: group.retainedBytes)
                answer(group.decided)
            }
        }
        awaitingJournal.removeFirst(completions.count)
    }

    /// Answers `unavailable` to every request of a group that could not be stored, and stops ingest: the
    /// state is ahead of the journal (fail-stop). The sequence number goes back to the last one
    /// published.
    private func refuse(_ decided: [Decided], failure: String, seqBefore: UInt64) {
        let reason = "journal append failed: \(failure); restart the server to recover"
        if failed == nil {
            failed = reason
            seq = seqBefore
        }
        answer(
            decided.map { item in
                var refused = item
                refused.outcome =
                    switch item.outcome {
                    case .ingest: .ingest(.unavailable(reason))
                    case .publish: .publish(.unavailable(reason))
                    }
                return refused
            })
    }

    /// Waits until the journal has stored every group applied so far, and finishes them.
    func waitForJournal() {
        guard !awaitingJournal.isEmpty else { return }
        journal.waitUntilIdle()
        finishJournalled()
    }

    /// Sends every decided outcome: closures one by one, batched targets once each.
    func answer(_ decided: [Decided]) {
        var targets: [ObjectIdentifier: IngestReplyTarget] = [:]
        var batches: [ObjectIdentifier: [IngestReply]] = [:]
        var order: [ObjectIdentifier] = []
        for item in decided {
            switch (item.reply, item.outcome) {
            case (.ingest(.closure(let reply)), .ingest(let outcome)):
                reply(outcome)
            case (.ingest(.batched(let target, let token)), .ingest(let outcome)):
                let key = ObjectIdentifier(target)
                if targets[key] == nil {
                    targets[key] = target
                    order.append(key)
                }
                batches[key, default: []].append(IngestReply(token: token, outcome: outcome))
            case (.publish(let reply), .publish(let outcome)):
                reply(outcome)
            default:
                break
            }
        }
        for key in order {
            if let target = targets[key] { target.deliver(batches[key] ?? []) }
        }
    }

    /// Records a group's events in the history and hands them to every sink. They are all
    /// sequenced: the unsequenced `stats` events go to the sinks from `publishStats` directly.
    ///
    /// Large groups the history drops (NDJSON batches) go to `releaseDropped`, if set, to be
    /// released where their transactions' strings were allocated (see ``DroppedGroups``).
    /// `retainedBytes` is the events' ``BrokerEvent/retainedBytes`` summed as they were made.
    func publish(_ events: [BrokerEvent], retainedBytes: Int) {
        guard !events.isEmpty else { return }
        let dropped = history.append(contentsOf: events, retainedBytes: retainedBytes)
        for sink in sinks { sink.deliver(events) }
        if let releaseDropped, let large = DroppedGroups(dropped, minimumCount: Self.inlineAppendLimit) {
            releaseDropped(large)
        }
    }

    private func decideIngest(
        _ transactions: [Transaction], digests: [TransactionDigest], entries: inout [JournalEntry], events: inout [BrokerEvent]
    ) -> IngestOutcome {
        // `fresh` is `transactions` itself until the first one is skipped: copying every
        // transaction into a new array (a retain now, a release later) costs ~5% of the broker's
        // time under NDJSON ingest, and almost every request is all fresh.
        var fresh = transactions
        var skipped: [Int] = []
        var duplicates = 0
        var conflicts: [TransactionValidationError.Detail] = []
        var claimed: [IdempotencyIndex.Key] = []
        for index in transactions.indices {
            knownIds.prefetch(ahead: index, in: digests)
            if let key = digests[index].key {
                let fingerprint = digests[index].fingerprint
                if let known = knownIds.claim(key, fingerprint: fingerprint) {
                    if known == fingerprint {
                        duplicates += 1
                    } else {
                        let id = transactions[index].id ?? ""
                        conflicts.append(.init(index: index, field: "id", reason: "id \"\(id)\" was already used with different content"))
                    }
                    if skipped.isEmpty { fresh = Array(transactions[..<index]) }
                    skipped.append(index)
                    continue
                }
                claimed.append(key)
            }
            if !skipped.isEmpty { fresh.append(transactions[index]) }
        }
        if !conflicts.isEmpty {
            for id in claimed { knownIds.release(id) }
            return .idConflict(conflicts)
        }
        let overflow = monitor.validate(TransactionBatch(fresh))
        if !overflow.isEmpty {
            for id in claimed { knownIds.release(id) }
            // Indices into `fresh` back to indices into the request.
            let skippedIndices = Set(skipped)
            let freshIndices = transactions.indices.filter { !skippedIndices.contains($0) }
            let details = overflow.map { detail in
                var mapped = detail
                mapped.index = freshIndices[detail.index]
                return mapped
            }
            return .invalid(details)
        }
        knownIds.commit(claimed)
        guard !fresh.isEmpty else {
            return .accepted(accepted: 0, duplicates: duplicates, firstSeq: nil, lastSeq: nil)
        }
        entries.append(.transactions(fresh))
        let range = applyTransactions(fresh, into: &events)
        return .accepted(accepted: fresh.count, duplicates: duplicates, firstSeq: range.first, lastSeq: range.last)
    }

    /// Applies accepted transactions (live or replayed) and appends their sequenced events:
    /// per transaction a `transaction` event, then its alerts; then at most one `rankings` event
    /// for the whole entry, only if the top list differs from before the entry.
    /// Returns the sequence numbers of the first and last `transaction` events. Adds the events'
    /// retained bytes to `newEventBytes` while each transaction is in cache (summing them later,
    /// at the history append, re-reads every transaction of the group from memory: ~7% of the
    /// broker's user time in `syndicast-microbench 3 broker`, by perf).
    func applyTransactions(_ transactions: [Transaction], into events: inout [BrokerEvent]) -> (first: UInt64, last: UInt64) {
        var first: UInt64 = 0
        var last: UInt64 = 0
        let rankingsChanged = monitor.apply(
            TransactionBatch(transactions),
            before: { index in
                seq += 1
                if first == 0 { first = seq }
                last = seq
                events.append(
                    BrokerEvent(seq: seq, topic: Topic.transactions, body: .transaction(batch: transactions, index: index)))
                newEventBytes &+= BrokerEvent.retainedBytes(ofTransactionEventFor: transactions[index])
            },
            alerts: { alert in
                seq += 1
                counts.countAlert(alert.rule)
                let event = BrokerEvent(seq: seq, topic: Topic.alerts, body: .alert(alert))
                newEventBytes &+= event.retainedBytes
                events.append(event)
            })
        stats.transactions += transactions.count
        // Totals only grow, so a change of the top K cannot be undone later in the entry: "changed"
        // means the list differs from before it, and no snapshot of it is taken up front (one
        // leaderboard array per request is measurable under single-transaction POSTs, `wrk`).
        if rankingsChanged {
            seq += 1
            let event = BrokerEvent(seq: seq, topic: Topic.rankings, body: .rankings(monitor.leaderboard))
            newEventBytes &+= event.retainedBytes
            events.append(event)
        }
        return (first, last)
    }

    func applyMessage(topic: String, data: [UInt8], into events: inout [BrokerEvent]) -> UInt64 {
        seq += 1
        let event = BrokerEvent(seq: seq, topic: topic, body: .message(data: data))
        newEventBytes &+= event.retainedBytes
        events.append(event)
        return seq
    }

    /// Re-applies journal entries at start-up: the same code path as live ingest, so the state,
    /// alert ids and sequence numbers come out identical. Events go to the history, not to sinks.
    public func replay(_ entry: JournalEntry) {
        var events: [BrokerEvent] = []
        newEventBytes = 0
        switch entry {
        case .transactions(let transactions):
            // Claimed with the same prefetch as live ingest: without it, each claim's cache miss
            // is ~23% of a large journal's replay (10.25 M transactions: 12.5–13.1 s to start
            // against 9.9–10.3 s).
            let digests = TransactionDigest.of(transactions)
            var keys: [IdempotencyIndex.Key] = []
            for index in digests.indices {
                knownIds.prefetch(ahead: index, in: digests)
                guard let key = digests[index].key else { continue }
                if knownIds.claim(key, fingerprint: digests[index].fingerprint) == nil {
                    keys.append(key)
                }
            }
            knownIds.commit(keys)
            _ = applyTransactions(transactions, into: &events)
            stats.replayed = stats.transactions
        case .message(let topic, let data):
            _ = applyMessage(topic: topic, data: data, into: &events)
        }
        history.append(contentsOf: events, retainedBytes: newEventBytes)
    }
}
