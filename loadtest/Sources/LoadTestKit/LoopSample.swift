import Histogram

/// What one loop measured: gauges and totals as they stand, plus counts and latencies since the
/// previous sample. Loops hand these to the main thread once a second.
public struct LoopSample: Sendable {
    // Subscribers (gauges and totals).
    public var opened = 0
    public var ready = 0
    public var failed = 0
    public var closedAfterReady = 0
    public var pending = 0
    public var completeHead = Int.max
    public var duplicates = 0
    public var skippedCounters = 0
    // Subscribers (since the previous sample).
    public var delivered = 0
    public var otherMessages = 0
    public var latency = LatencySummary.makeHistogram()
    // Publisher (totals).
    public var published = 0
    public var accepted = 0
    public var rejected = 0
    public var transportErrors = 0
    public var retries = 0
    public var statusCounts: [Int: Int] = [:]
    // Publisher (since the previous sample).
    public var acceptedInterval = 0
    public var requestLatency = LatencySummary.makeHistogram()
    /// Why connections failed or closed, with counts.
    public var failures: [String: Int] = [:]

    public init() {}

    /// Combines the samples of several loops.
    public mutating func add(_ other: LoopSample) {
        opened += other.opened
        ready += other.ready
        failed += other.failed
        closedAfterReady += other.closedAfterReady
        pending += other.pending
        completeHead = min(completeHead, other.completeHead)
        duplicates += other.duplicates
        skippedCounters += other.skippedCounters
        delivered += other.delivered
        otherMessages += other.otherMessages
        latency.add(other.latency)
        published += other.published
        accepted += other.accepted
        rejected += other.rejected
        transportErrors += other.transportErrors
        retries += other.retries
        statusCounts.merge(other.statusCounts, uniquingKeysWith: +)
        acceptedInterval += other.acceptedInterval
        requestLatency.add(other.requestLatency)
        failures.merge(other.failures, uniquingKeysWith: +)
    }

    /// The sum of `samples` (the minimum for `completeHead`).
    public static func merged(_ samples: [LoopSample]) -> LoopSample {
        var total = LoopSample()
        total.completeHead = samples.isEmpty ? 0 : Int.max
        for sample in samples { total.add(sample) }
        return total
    }
}

/// Counts a failure reason, keeping at most 20 distinct reasons.
func note(_ reason: String, in failures: inout [String: Int]) {
    if failures[reason] != nil || failures.count < 20 {
        failures[reason, default: 0] += 1
    } else {
        failures["other", default: 0] += 1
    }
}
