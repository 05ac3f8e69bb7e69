import Monitor

/// Where the spike rule is evaluated in cluster mode (`--spike-store`).
public enum SpikeStore: String, Sendable, Hashable, CaseIterable {
    /// In each instance's ``TransactionMonitor`` (`memory`, the default).
    case monitor = "memory"
    /// In the shared log, inside the ingest script, in stream order (`redis`): the entries carry
    /// the decisions (field `k`) and every instance raises the alerts they name; no instance keeps
    /// spike windows (docs/CLUSTER.md "Spike rule in Redis").
    case sharedLog = "redis"
}

/// Cluster mode with the spike rule in the shared log: an entry's transactions are applied with
/// the decisions the log made for them, at the same place in the event order and with the same
/// alert ids and fields as the in-process rule would raise them.
extension MessageBroker {
    /// ``applyTransactions(_:into:)`` with the spike decisions of the transactions given, by their
    /// index in `transactions`: the same events, in the same order. A path of its own, so that the
    /// in-process path stays as it is (`syndicast-microbench broker`).
    func applyTransactions(
        _ transactions: [Transaction], spikeDecisions: [Int: ExternalSpikeDecision], into events: inout [BrokerEvent]
    ) -> (first: UInt64, last: UInt64) {
        var first: UInt64 = 0
        var last: UInt64 = 0
        let rankingsChanged = monitor.apply(
            TransactionBatch(transactions),
            spikeDecisions: { spikeDecisions.isEmpty ? nil : spikeDecisions[$0] },
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
        if rankingsChanged {
            seq += 1
            let event = BrokerEvent(seq: seq, topic: Topic.rankings, body: .rankings(monitor.leaderboard))
            newEventBytes &+= event.retainedBytes
            events.append(event)
        }
        return (first, last)
    }

    /// A request's decisions (by its transaction index, duplicates counted) re-keyed by the index
    /// among the transactions applied (`freshIndices`: the request's indices left after its
    /// duplicates; nil when none was skipped).
    static func freshDecisions(_ decisions: [Int: ExternalSpikeDecision]?, _ freshIndices: [Int]?) -> [Int: ExternalSpikeDecision] {
        guard let decisions, !decisions.isEmpty else { return [:] }
        guard let freshIndices else { return decisions }
        var result: [Int: ExternalSpikeDecision] = [:]
        for (freshIndex, index) in freshIndices.enumerated() {
            if let decision = decisions[index] { result[freshIndex] = decision }
        }
        return result
    }
}
