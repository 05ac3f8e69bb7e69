import Basics
import Monitor

extension MessageBroker {
    /// Answers a new subscriber with `hello`, then the events it missed or a `snapshot` of the
    /// current state.
    ///
    /// The missed events are replayed only when the request resumes within this epoch, the history
    /// still holds every one of them, and their JSON (plus ``replayFramingAllowance`` per event)
    /// fits in ``BrokerConfiguration/replayByteLimit``, the server's outbound bound: a replay past
    /// it would be queued whole before the client reads any of it. Otherwise the answer is a
    /// `snapshot` with `"recovered":false` (absent `recovered` for a request that did not resume).
    func startSubscription(_ request: SubscriptionRequest) {
        var messages: [[UInt8]] = [StreamEncoding.hello(epoch: epoch, seq: seq, topics: request.topics)]
        if let since = request.since, request.epoch == epoch, since <= seq, let replay = replay(after: since, topics: request.topics) {
            messages += replay
            counts.resumesHit += 1
        } else {
            let resumed: Bool? = request.since == nil ? nil : false
            if request.since != nil { counts.resumesMissed += 1 }
            messages.append(
                StreamEncoding.snapshot(
                    seq: seq, top: monitor.leaderboard, alerts: monitor.recentAlerts(limit: configuration.snapshotAlerts),
                    recovered: resumed))
        }
        request.reply(SubscriptionStart(messages: messages, seq: seq))
    }

    /// Bytes counted per replayed event on top of its JSON: a WebSocket frame header is at most 14
    /// bytes, an SSE record's `id:` line, `data: ` and blank line about 45.
    static let replayFramingAllowance = 64

    /// The encoded events after `since` of `topics`, or nil if the history lost some of them or
    /// they exceed the replay byte limit (encoding stops as soon as they do).
    private func replay(after since: UInt64, topics: Set<String>) -> [[UInt8]]? {
        guard let missed = history.events(after: since, through: seq) else { return nil }
        var messages: [[UInt8]] = []
        var bytes = 0
        for event in missed where topics.contains(event.topic) {
            let json = event.encodeJSON()
            bytes += json.count + Self.replayFramingAllowance
            if bytes > configuration.replayByteLimit { return nil }
            messages.append(json)
        }
        return messages
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
        // The rules in force, so a dashboard shows the thresholds before the first alert.
        let rules = monitor.configuration
        writer.appendRaw(",\"rules\":{\"amountThreshold\":")
        writer.appendMoney(rules.amountThreshold)
        writer.appendRaw(",\"spikeWindowSeconds\":")
        writer.appendInteger(rules.spikeWindowSeconds)
        writer.appendRaw(",\"spikeThreshold\":")
        writer.appendInteger(rules.spikeThreshold)
        writer.appendRaw(",\"topK\":")
        writer.appendInteger(rules.topK)
        writer.appendRaw("}}")
        return writer.bytes
    }
}
