import Basics
import Broker
import Monitor

/// The spike section's checks (`--spike-store redis`, docs/CLUSTER.md "Spike rule in Redis") for
/// any ``SharedLog``: groups carrying a ``SharedLogSpikeRule`` get the in-process rule's decisions
/// in their entries (``SharedLogEntry/spikes``, field `k`), counting only the applied transactions,
/// in order, with the rule clock's ignore floor, late joins and spikes that end.
extension SharedLogConformance {
    /// Runs the checks against `log`, which must be empty; returns what failed (empty: it conforms).
    public static func spikeFailures(of log: any SharedLog, timeoutMilliseconds: Int = 5_000) -> [String] {
        var failures: [String] = []
        // W 10 s, S 2, M 5 s.
        let rule = SharedLogSpikeRule(windowMilliseconds: 10_000, threshold: 2, marginMilliseconds: 5_000)
        let groups: [(requests: [[Transaction]], expected: String)] = [
            // The third of s1 alerts (count 3); the message has no values; the refused request
            // (one id, two contents) and the duplicate "a" do not count; "c" finds 4, still spiking.
            (
                [
                    [spiking("a", "s1", 1_000), spiking("", "s1", 1_001), spiking("b", "s1", 1_002)], [],
                    [spiking("x", "s1", 1_003), spiking("x", "s1", 1_004, content: 2)],
                    [spiking("a", "s1", 1_005), spiking("c", "s1", 1_005)],
                ], "0.2:3"
            ),
            // Much later the window holds one: the spike ends. s2's transaction is at or before
            // G − W − M: ignored, so s2 has no newest timestamp yet.
            ([[spiking("d", "s1", 100_000)], [spiking("e", "s2", 1_000)]], "0.0-"),
            // Two late joins count at the next evaluation; s2's first evaluation finds 1.
            (
                [
                    [spiking("f", "s3", 200_000), spiking("g", "s3", 199_999), spiking("h", "s3", 199_998), spiking("", "s3", 200_000)],
                    [spiking("i", "s2", 200_001)],
                ], "0.3:4"
            ),
        ]
        let deliveries = ConditionLock<[String]>([])
        let reading = log.read(after: nil) { delivery in
            guard case .entry(let entry) = delivery else { return }
            deliveries.withLock { $0.append(entry.spikes.map { $0.text } ?? "none") }
            deliveries.broadcast()
        }
        for (number, group) in groups.enumerated() {
            let reply = ConditionLock<Result<SharedLogAppendResult, SharedLogError>?>(nil)
            let requests = group.requests.map { SharedLogRequest(transactions: $0, records: log.records.records(of: $0)) }
            log.append(group: SharedLogGroup(payload: [UInt8(number)], requests: requests, spikeRule: rule)) { result in
                reply.withLock { $0 = result }
                reply.broadcast()
            }
            let result = reply.withLock(when: { $0 != nil }, timeoutMilliseconds: timeoutMilliseconds) { $0 }
            if (try? result?.get())?.position == nil { failures.append("group \(number) was not appended: \(String(describing: result))") }
        }
        let seen = deliveries.withLock(when: { $0.count >= groups.count }, timeoutMilliseconds: timeoutMilliseconds) { $0 }
        if seen != groups.map(\.expected) { failures.append("spike decisions \(seen), expected \(groups.map(\.expected))") }
        // A group without the rule gets no decisions.
        let plain = append(log, [[spiking("j", "s1", 200_002)]], payload: [9], timeoutMilliseconds)
        if plain?.position == nil { failures.append("a group without the rule was not appended") }
        let last = deliveries.withLock(when: { $0.count > groups.count }, timeoutMilliseconds: timeoutMilliseconds) { $0.last }
        if last != "none" { failures.append("a group without the rule got decisions \(String(describing: last))") }
        reading.cancel()
        return failures
    }

    /// A transaction in `syndicate` at `timestamp` ms, with id `id` (none when empty).
    static func spiking(_ id: String, _ syndicate: String, _ timestamp: Int64, content: Int64 = 1) -> Transaction {
        Transaction(
            id: id.isEmpty ? nil : id, investorId: "i", syndicateId: syndicate, amount: Money(cents: content), timestamp: timestamp)
    }
}
