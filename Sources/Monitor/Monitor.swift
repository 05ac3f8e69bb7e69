/// The domain state machine: rankings (task 1) and alert rules (task 2) over the journal's order.
///
/// Pure and deterministic (DESIGN.md §4 "Determinism"): the same transactions in the same order
/// give the same state and the same events, alert ids included. No clock, no I/O: the spike rule's
/// clock G is the newest timestamp accepted for any syndicate; a timestamp at or before G − W is
/// ignored by the spike rule, and windows whose newest is at or before G − 2W are emptied by an
/// incremental sweep (docs/SPIKE-RULE.md, Monitor+SpikeClock.swift).
///
/// Totals are 128-bit (``MoneyTotal``) and cannot overflow, so the only transaction ``apply(_:)``
/// refuses is one whose amount is not positive (the decoder never produces one);
/// ``validate(_:)`` reports those before a batch is journaled.
public struct Monitor: Sendable {
    struct SyndicateState: Sendable {
        var window: SpikeWindow
        var total = MoneyTotal.zero
        var transactionCount = 0
    }

    /// The rule parameters.
    public let configuration: MonitorConfiguration
    /// Investor totals and the top K.
    public private(set) var rankings: Rankings
    let amountRule: AmountRule
    /// By the syndicate ordinals of ``Rankings`` (``IdentifierTable``); a state with no
    /// transaction belongs to an id whose only transactions were rejected.
    var syndicateStates: [SyndicateState] = []
    var recentAlertRing: AlertRing
    /// Running totals.
    public private(set) var counts = MonitorCounts()
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
    /// positive. Empty means every `apply` of the batch will succeed (no total can overflow).
    public func validate(_ batch: [Transaction]) -> [TransactionValidationError.Detail] {
        var details: [TransactionValidationError.Detail] = []
        // Reads each amount in place rather than binding a copy of each transaction, which would
        // retain its strings (see `apply(contentsOf:before:alerts:)`).
        for index in batch.indices where batch[index].amount.cents <= 0 {
            details.append(.init(index: index, field: "amount", reason: "must be greater than 0"))
        }
        return details
    }

    /// Validates a whole batch, then applies it: all or nothing.
    public mutating func apply(batch: [Transaction]) -> Result<[MonitorEvent], TransactionValidationError> {
        let details = validate(batch)
        guard details.isEmpty else {
            return .failure(
                TransactionValidationError(
                    code: .invalidFields,
                    message: "\(details.count) transactions have an amount that is not positive; nothing was accepted.",
                    details: details))
        }
        var events: [MonitorEvent] = []
        for transaction in batch { events.append(contentsOf: apply(transaction)) }
        return .success(events)
    }

    /// Applies one transaction and returns its events: alerts (amount, then spike), then rankings.
    ///
    /// A transaction whose amount is not positive changes nothing and returns no event (counted in
    /// ``MonitorCounts/rejected``); ``validate(_:)`` reports it first.
    public mutating func apply(_ transaction: Transaction) -> [MonitorEvent] {
        var events: [MonitorEvent] = []
        if apply(transaction, alerts: { events.append(.alert($0)) }) {
            events.append(.rankingsChanged(rankings.leaderboard))
        }
        return events
    }

    /// Applies a batch in order for the broker: `before(index)` is called before each transaction's
    /// alerts go to `alerts`; returns whether the top K changed. Looping here rather than in the
    /// caller reads each transaction in place, field by field: a copy of the whole transaction
    /// (made by any call that took it as a value, even across a `borrowing` parameter) retained
    /// its `id` string, whose reference count (written on the event loop that decoded it) is a
    /// cache miss on the broker's core: ~2% of the server's CPU under NDJSON ingest, plus the
    /// matching release.
    public mutating func apply(
        contentsOf transactions: [Transaction], before: (Int) -> Void, alerts: (Alert) -> Void
    ) -> Bool {
        transactions.withUnsafeBufferPointer { batch in
            guard let first = batch.baseAddress else { return false }
            var changed = false
            for index in batch.indices {
                before(index)
                if apply(at: first + index, alerts: alerts) { changed = true }
            }
            return changed
        }
    }

    /// ``apply(_:)`` for a caller that reads the leaderboard itself once per batch (the broker):
    /// alerts go to `alerts` in order (amount, then spike), and the result says whether the top K
    /// changed. Building the leaderboard for every transaction that changed it (under
    /// single-transaction POSTs with equal amounts, nearly every one) cost an array and K string
    /// retains each time, for an event the broker did not read.
    public mutating func apply(_ transaction: Transaction, alerts: (Alert) -> Void) -> Bool {
        withUnsafePointer(to: transaction) { apply(at: $0, alerts: alerts) }
    }

    /// ``apply(_:alerts:)`` reading the transaction in place, field by field: only the fields
    /// used are loaded, so the `id` string is not retained unless an alert names it.
    mutating func apply(at transaction: UnsafePointer<Transaction>, alerts: (Alert) -> Void) -> Bool {
        let amount = transaction.pointee.amount
        guard amount.cents > 0 else {
            counts.rejected += 1
            return false
        }
        // One lookup of the syndicate serves the rankings and the spike rule.
        let syndicate = rankings.syndicateOrdinal(
            of: transaction.pointee.syndicateId, key: transaction.pointee.syndicateKey)
        // Ordinals are handed out one at a time (only here, for this monitor's rankings), so this
        // appends at most one state; the loop keeps an index gap from ever being possible.
        while syndicateStates.count <= Int(syndicate) {
            syndicateStates.append(
                SyndicateState(
                    window: SpikeWindow(
                        windowMilliseconds: configuration.spikeWindowMilliseconds, threshold: configuration.spikeThreshold)))
        }
        let rankingsChanged = rankings.apply(
            investorId: transaction.pointee.investorId, key: transaction.pointee.investorKey, amount: amount,
            syndicate: syndicate)
        counts.transactions += 1
        counts.investors = rankings.investorCount

        if amountRule.isTriggered(by: amount) {
            counts.amountAlerts += 1
            alerts(raise(.amountThreshold(amount: amount, threshold: amountRule.threshold), for: transaction.pointee))
        }
        let outcome = recordInSyndicate(amount: amount, timestamp: transaction.pointee.timestamp, ordinal: Int(syndicate))
        if case .alert(let count) = outcome {
            counts.spikeAlerts += 1
            alerts(
                raise(
                    .syndicateSpike(
                        count: count, windowSeconds: configuration.spikeWindowSeconds,
                        threshold: configuration.spikeThreshold),
                    for: transaction.pointee))
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
    func state(ofSyndicate syndicateId: String, key: Int) -> SyndicateState? {
        guard let ordinal = rankings.syndicateIndex.ordinal(of: syndicateId, key: key),
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

    private mutating func raise(_ details: Alert.Details, for transaction: Transaction) -> Alert {
        let alert = Alert(
            id: "a-\(counts.alerts)", syndicateId: transaction.syndicateId, investorId: transaction.investorId,
            transactionId: transaction.id, details: details, at: transaction.timestamp)
        recentAlertRing.append(alert)
        return alert
    }
}
