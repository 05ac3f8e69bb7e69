import Monitor

/// Cluster mode's apply side: every log entry is applied like journal replay, publishing its
/// events, and this broker's requests in it are answered with what applying it gave.
extension MessageBroker {
    /// Applies one log entry like journal replay, but publishing its events: the requests the
    /// skip set leaves, in order, with the log's spike decisions (`spikes`, the entry's `k`) when
    /// the log evaluates the spike rule; its `records` join the idempotency window. Then answers
    /// this broker's requests in it.
    func applyLogEntry(
        _ position: SharedLogPosition, entries: [JournalEntry]?, skip: SharedLogSkipSet, spikes: SharedLogSpikeDecisions? = nil,
        records: [UInt8] = []
    ) {
        // A reading resumes after the last entry it delivered; an entry at or before the last
        // applied one is a repeat.
        if let last = cluster.appliedPosition, position <= last { return }
        var events: [BrokerEvent] = []
        var results: [AppliedRequest] = []
        newEventBytes = 0
        if let entries {
            for (request, entry) in entries.enumerated() {
                if skip.isRefused(request) {
                    results.append(.skipped)
                    continue
                }
                switch entry {
                case .transactions(let transactions):
                    var fresh = transactions
                    var freshIndices: [Int]?
                    if let duplicates = skip.duplicates[request] {
                        let skipped = Set(duplicates)
                        let indices = transactions.indices.filter { !skipped.contains($0) }
                        fresh = indices.map { transactions[$0] }
                        freshIndices = indices
                    }
                    if fresh.isEmpty {
                        results.append(.transactions(accepted: 0, first: nil, last: nil))
                        continue
                    }
                    let range =
                        clusterLink?.spikeRule == nil
                        ? applyTransactions(fresh, into: &events)
                        : applyTransactions(
                            fresh, spikeDecisions: Self.freshDecisions(spikes?.decisions(ofRequest: request), freshIndices), into: &events)
                    results.append(.transactions(accepted: fresh.count, first: range.first, last: range.last))
                case .message(let topic, let data):
                    results.append(.message(seq: applyMessage(topic: topic, data: data, into: &events)))
                }
            }
            remember(records, at: position)
        } else {
            cluster.statistics.undecodableEntries += 1
        }
        publish(events, retainedBytes: newEventBytes)
        cluster.appliedPosition = position
        cluster.statistics.appliedEntries += 1
        if let waiting = cluster.awaiting.removeValue(forKey: position) {
            answer(Self.answers(waiting, results))
        } else if cluster.appendInFlight {
            cluster.recentlyApplied[position] = results
        }
        if let pending = cluster.ownEntryPending, pending.position <= position {
            cluster.ownEntryPending = nil
            if let link = clusterLink, !cluster.stopping { startAppendIfIdle(link) }
        }
    }

    /// The outcomes of waiting requests from what applying their entry gave.
    static func answers(_ waiting: [ClusterWaiting], _ results: [AppliedRequest]) -> [Decided] {
        waiting.map { item in
            let result = item.request < results.count ? results[item.request] : .skipped
            switch (item.reply, result) {
            case (.ingest, .transactions(let accepted, let first, let last)):
                let outcome = IngestOutcome.accepted(accepted: accepted, duplicates: item.duplicates, firstSeq: first, lastSeq: last)
                return Decided(reply: item.reply, outcome: .ingest(outcome))
            case (.publish, .message(let seq)):
                return Decided(reply: item.reply, outcome: .publish(.published(seq: seq)))
            case (.ingest, _):
                return Decided(reply: item.reply, outcome: .ingest(.unavailable("the shared log entry could not be applied")))
            case (.publish, _):
                return Decided(reply: item.reply, outcome: .publish(.unavailable("the shared log entry could not be applied")))
            }
        }
    }

    func answerUnavailable(_ replies: [Decided.Reply], _ reason: String) {
        answer(
            replies.map { reply in
                switch reply {
                case .ingest: Decided(reply: reply, outcome: .ingest(.unavailable(reason)))
                case .publish: Decided(reply: reply, outcome: .publish(.unavailable(reason)))
                }
            })
    }
}
