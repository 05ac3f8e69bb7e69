/// The domain state machine: rankings (task 1) and alert rules (task 2) over the journal's order.
///
/// Pure and deterministic (DESIGN.md §4 "Determinism"): the same transactions in the same order
/// give the same state and the same events, alert ids included. No clock, no I/O: the spike rule's
/// clock G is the newest timestamp accepted for any syndicate; a timestamp at or before G − W is
/// ignored by the spike rule, and windows whose newest is at or before G − 2W are emptied by an
/// incremental sweep (docs/SPIKE-RULE.md, TransactionMonitor+SpikeClock.swift).
///
/// Totals are 128-bit (``MoneyTotal``) and cannot overflow, so the only transaction
/// ``apply(_:before:alerts:)`` refuses is one whose amount is not positive (the decoder never produces one);
/// ``validate(_:)`` reports those before a batch is journaled.
public struct TransactionMonitor: Sendable {
    struct SyndicateState: Sendable {
        var window: SpikeWindow
        var total = MoneyTotal.zero
        var transactionCount = 0
    }

    /// The rule parameters.
    public let configuration: MonitorConfiguration
    /// Investor totals and the top K.
    public internal(set) var rankings: Rankings
    let amountRule: AmountRule
    /// By the syndicate ordinals of ``Rankings`` (``IdentifierTable``); a state with no
    /// transaction belongs to an id whose only transactions were rejected.
    var syndicateStates: [SyndicateState] = []
    var recentAlertRing: AlertRing
    /// Running totals.
    public internal(set) var counts = MonitorCounts()
    /// The spike rule's clock G and its sweep of quiet syndicates.
    var spikeClock = SpikeRuleClock()

    /// Creates an empty monitor.
    public init(configuration: MonitorConfiguration = MonitorConfiguration()) {
        self.configuration = configuration
        self.rankings = Rankings(topCount: configuration.topK)
        self.amountRule = AmountRule(threshold: configuration.amountThreshold)
        self.recentAlertRing = AlertRing(capacity: configuration.recentAlertCapacity)
    }

    /// Checks a batch without changing state: one detail per transaction whose amount is not
    /// positive. Empty means every transaction of the batch will be applied (no total can overflow).
    public func validate(_ batch: TransactionBatch) -> [TransactionValidationError.Detail] {
        var details: [TransactionValidationError.Detail] = []
        batch.forEach { index, transaction in
            if transaction.amount.cents <= 0 {
                details.append(.init(index: index, field: "amount", reason: "must be greater than 0"))
            }
        }
        return details
    }

    /// Applies a batch in order (live ingest and journal replay alike): for each transaction,
    /// `before(index)` is called, then its alerts go to `alerts` (amount, then spike). Returns
    /// whether the top K changed; the caller reads ``leaderboard`` once per batch if so (building
    /// it for every transaction that changed it cost an array and K string retains each time,
    /// under single-transaction POSTs with equal amounts nearly every one).
    ///
    /// A transaction whose amount is not positive changes nothing (counted in
    /// ``MonitorCounts/rejected``); ``validate(_:)`` reports it first. The batch is read in place,
    /// field by field (``TransactionBatch``): a transaction is copied only when an alert names it.
    public mutating func apply(
        _ batch: TransactionBatch, before: (Int) -> Void = { _ in }, alerts: (Alert) -> Void
    ) -> Bool {
        var changed = false
        batch.forEach { index, transaction in
            before(index)
            if applyTransaction(transaction, alerts: alerts) { changed = true }
        }
        return changed
    }

    /// Applies one transaction of a batch; returns whether the top K changed.
    private mutating func applyTransaction(_ transaction: TransactionBatch.Fields, alerts: (Alert) -> Void) -> Bool {
        let amount = transaction.amount
        guard amount.cents > 0 else {
            counts.rejected += 1
            return false
        }
        // One lookup of the syndicate serves the rankings and the spike rule.
        let syndicate = rankings.syndicateOrdinal(of: transaction.syndicate)
        // Ordinals are handed out one at a time (only here, for this monitor's rankings), so this
        // appends at most one state; the loop keeps an index gap from ever being possible.
        while syndicateStates.count <= Int(syndicate) {
            syndicateStates.append(
                SyndicateState(
                    window: SpikeWindow(
                        windowMilliseconds: configuration.spikeWindowMilliseconds, threshold: configuration.spikeThreshold)))
        }
        let rankingsChanged = rankings.apply(investor: transaction.investor, amount: amount, syndicate: syndicate)
        counts.transactions += 1
        counts.investors = rankings.investorCount

        if amountRule.isTriggered(by: amount) {
            counts.amountAlerts += 1
            alerts(raise(.amountThreshold(amount: amount, threshold: amountRule.threshold), for: transaction.copy()))
        }
        let outcome = recordInSyndicate(amount: amount, timestamp: transaction.timestamp, ordinal: Int(syndicate))
        if case .alert(let count) = outcome {
            counts.spikeAlerts += 1
            alerts(
                raise(
                    .syndicateSpike(
                        count: count, windowSeconds: configuration.spikeWindowSeconds,
                        threshold: configuration.spikeThreshold),
                    for: transaction.copy()))
        }
        if rankingsChanged { counts.rankingChanges += 1 }
        return rankingsChanged
    }

    private mutating func recordInSyndicate(amount: Money, timestamp: Int64, ordinal: Int) -> SpikeOutcome {
        if syndicateStates[ordinal].transactionCount == 0 {
            counts.syndicates += 1
            // A sweep under way visits the new syndicate too, so it still reaches every old one.
            if spikeClock.sweepRemaining > 0 { spikeClock.sweepRemaining += 1 }
        }
        let outcome = Self.record(
            amount: amount, timestamp: timestamp, ignoringAtOrBefore: spikeClock.ignoreFloor, in: &syndicateStates[ordinal])
        if timestamp > spikeClock.newest {
            spikeClock.advance(
                to: timestamp, lagMilliseconds: configuration.spikeClockLagMilliseconds,
                windowMilliseconds: configuration.spikeWindowMilliseconds, syndicates: syndicateStates.count)
        }
        if spikeClock.sweepRemaining > 0 { sweepQuietSyndicates() }
        return outcome
    }

    /// The state of `syndicateId` if it has had a transaction.
    func state(ofSyndicate syndicate: KeyedIdentifier) -> SyndicateState? {
        guard let ordinal = rankings.syndicateIndex.ordinal(of: syndicate),
            Int(ordinal) < syndicateStates.count, syndicateStates[Int(ordinal)].transactionCount > 0
        else { return nil }
        return syndicateStates[Int(ordinal)]
    }

    private static func record(
        amount: Money, timestamp: Int64, ignoringAtOrBefore floor: Int64?, in state: inout SyndicateState
    ) -> SpikeOutcome {
        state.total.add(amount)
        state.transactionCount += 1
        return state.window.record(timestamp, ignoringAtOrBefore: floor)
    }

    mutating func raise(_ details: Alert.Details, for transaction: Transaction) -> Alert {
        let alert = Alert(
            id: "a-\(counts.alerts)", syndicateId: transaction.syndicateId, investorId: transaction.investorId,
            transactionId: transaction.id, details: details, at: transaction.timestamp)
        recentAlertRing.append(alert)
        return alert
    }
}
