import Monitor

extension Broker {
    /// Answers a new subscriber with `hello`, then the events it missed (resume within the same
    /// epoch while the history still holds them) or a `snapshot` of the current state.
    func startSubscription(_ request: SubscriptionRequest) {
        var messages: [[UInt8]] = [StreamEncoding.hello(epoch: epoch, seq: seq, topics: request.topics)]
        if let since = request.since, request.epoch == epoch, since <= seq,
            let missed = history.events(after: since, through: seq)
        {
            for event in missed where request.topics.contains(event.topic) {
                messages.append(event.json)
            }
        } else {
            let resumed: Bool? = request.since == nil ? nil : false
            messages.append(
                StreamEncoding.snapshot(
                    seq: seq, top: monitor.leaderboard, alerts: monitor.recentAlerts(limit: configuration.snapshotAlerts),
                    recovered: resumed))
        }
        request.reply(SubscriptionStart(messages: messages, seq: seq))
    }

    /// The ~1/s `stats` event: ephemeral (no sequence number of its own, never replayed).
    func publishStats(connections: Int, now: Int64) {
        stats.tick(now: now)
        let json = StreamEncoding.stats(stats, connections: connections)
        let event = BrokerEvent(seq: 0, topic: Topic.stats, body: .encoded(json))
        for sink in sinks { sink.deliver([event]) }
    }

    /// `/api/stats` body.
    public func statisticsJSON(connections: Int) -> [UInt8] {
        var writer = JSONWriter(capacity: 256)
        let counts = monitor.counts
        writer.appendRaw("{\"epoch\":")
        writer.appendString(epoch)
        writer.appendRaw(",\"seq\":")
        writer.appendInteger(Int64(truncatingIfNeeded: seq))
        writer.appendRaw(",\"transactions\":")
        writer.appendInteger(counts.transactions)
        writer.appendRaw(",\"investors\":")
        writer.appendInteger(counts.investors)
        writer.appendRaw(",\"syndicates\":")
        writer.appendInteger(counts.syndicates)
        writer.appendRaw(",\"alerts\":")
        writer.appendInteger(counts.alerts)
        writer.appendRaw(",\"txPerSecond\":")
        writer.appendInteger(stats.transactionsPerSecond)
        writer.appendRaw(",\"connections\":")
        writer.appendInteger(connections)
        writer.appendRaw(",\"historyOldestSeq\":")
        writer.appendInteger(Int64(truncatingIfNeeded: history.oldestSeq ?? 0))
        writer.appendRaw("}")
        return writer.bytes
    }
}
