import Monitor

/// Event counts the broker keeps as plain integers on its own thread (read at scrape time for
/// `/metrics`): resumes answered from the history or not, and alerts raised by rule (replayed
/// ones included, so after a restart the counts start from the journal's).
public struct BrokerCounts: Sendable, Equatable {
    /// Subscriptions that asked to resume and got the missed events replayed.
    public var resumesHit = 0
    /// Subscriptions that asked to resume and got a snapshot instead (history lost, other
    /// epoch, or too much to replay).
    public var resumesMissed = 0
    /// Alerts of ``Alert/Rule/amountThreshold``.
    public var amountThresholdAlerts = 0
    /// Alerts of ``Alert/Rule/syndicateSpike``.
    public var syndicateSpikeAlerts = 0

    public init() {}

    /// Alerts raised by `rule`.
    public func alerts(raisedBy rule: Alert.Rule) -> Int {
        switch rule {
        case .amountThreshold: amountThresholdAlerts
        case .syndicateSpike: syndicateSpikeAlerts
        }
    }

    mutating func countAlert(_ rule: Alert.Rule) {
        switch rule {
        case .amountThreshold: amountThresholdAlerts += 1
        case .syndicateSpike: syndicateSpikeAlerts += 1
        }
    }
}
