/// The domain state machine: rankings (task 1) and alert rules (task 2) over the journal's order.
///
/// Pure and deterministic (DESIGN.md §4 "Determinism"): the same transactions in the same order
/// give the same state and the same events, alert ids included. No clock, no I/O: the spike rule's
/// clock G is the newest timestamp accepted for any syndicate; a timestamp at or before G − W is
/// ignored by the spike rule, and windows whose newest is at or before G − 2W are emptied by an
/// incremental sweep (docs/SPIKE-RULE.md, Monitor+SpikeClock.swift).
///
/// Ingest should call ``validate(_:)`` (or ``apply(batch:)``) before journaling a batch, so that
/// the total-overflow `400` happens before anything is stored; ``apply(_:)`` then cannot refuse.
public struct Monitor: Sendable {
    struct SyndicateState: Sendable {
        var window: SpikeWindow
        var totalCents: Int64 = 0
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
    /// The largest syndicate total so far (see `cannotOverflow`).
    var largestSyndicateTotalCents: Int64 = 0
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
    /// positive or that would overflow its investor's or its syndicate's total (counting the
    /// batch's earlier transactions). Empty means every `apply` of the batch will succeed.
    public func validate(_ batch: [Transaction]) -> [TransactionValidationError.Detail] {
        if Self.cannotOverflow(batch, largest: max(rankings.largestTotalCents, largestSyndicateTotalCents)) {
            return []
        }
        var details = rankings.validate(batch)
        var failed = Set(details.map(\.index))
        var pending: [String: Int64] = [:]
        for (index, transaction) in batch.enumerated() where !failed.contains(index) {
            let base =
                pending[transaction.syndicateId]
                ?? state(ofSyndicate: transaction.syndicateId, key: transaction.syndicateKey)?.totalCents ?? 0
            let (sum, overflow) = base.addingReportingOverflow(transaction.amount.cents)
            if overflow {
                details.append(
                    .init(index: index, field: "amount", reason: "would overflow the syndicate's total invested"))
                failed.insert(index)
            } else {
                pending[transaction.syndicateId] = sum
            }
        }
        return details.sorted { $0.index < $1.index }
    }

    /// The common case, decided without a hash lookup: every amount positive and the batch's sum
    /// added to the largest total anywhere still fits in Int64 (measured: validation was ~7% of
    /// the broker's time under single-transaction ingest before this check).
    private static func cannotOverflow(_ batch: [Transaction], largest: Int64) -> Bool {
        var sum: Int64 = 0
        for transaction in batch {
            guard transaction.amount.cents > 0 else { return false }
            let (next, overflow) = sum.addingReportingOverflow(transaction.amount.cents)
            guard !overflow else { return false }
            sum = next
        }
        return !largest.addingReportingOverflow(sum).overflow
    }

    /// Validates a whole batch, then applies it: all or nothing.
    public mutating func apply(batch: [Transaction]) -> Result<[MonitorEvent], TransactionValidationError> {
        let details = validate(batch)
        guard details.isEmpty else {
            return .failure(
                TransactionValidationError(
                    code: .invalidFields,
                    message: "\(details.count) transactions would overflow a total; nothing was accepted.",
                    details: details))
        }
        var events: [MonitorEvent] = []
        for transaction in batch { events.append(contentsOf: apply(transaction)) }
        return .success(events)
    }

    /// Applies one transaction and returns its events: alerts (amount, then spike), then rankings.
    ///
    /// A transaction that would overflow a total, or whose amount is not positive, changes nothing
    /// and returns no event (counted in ``MonitorCounts/rejected``); ``validate(_:)`` reports it first.
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
        // Below the largest syndicate total nothing can overflow, so the common case reads no state.
        let cannotOverflow = !largestSyndicateTotalCents.addingReportingOverflow(amount.cents).overflow
        guard cannotOverflow || !syndicateStates[Int(syndicate)].totalCents.addingReportingOverflow(amount.cents).overflow
        else {
            counts.rejected += 1
            return false
        }
        let rankingsChanged: Bool
        do {
            rankingsChanged = try rankings.apply(
                investorId: transaction.pointee.investorId, key: transaction.pointee.investorKey, amount: amount,
                syndicate: syndicate)
        } catch {
            counts.rejected += 1
            return false
        }
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
            amount: amount, timestamp: timestamp, ignoringAtOrBefore: spikeClock.ignoreFloor, in: &syndicateStates[ordinal],
            largest: &largestSyndicateTotalCents)
        if timestamp > spikeClock.newest {
            spikeClock.advance(
                to: timestamp, windowMilliseconds: configuration.spikeWindowMilliseconds, syndicates: syndicateStates.count)
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
        amount: Money, timestamp: Int64, ignoringAtOrBefore floor: Int64?, in state: inout SyndicateState,
        largest: inout Int64
    ) -> SpikeOutcome {
        // Overflow was ruled out in `apply` before any state changed.
        state.totalCents &+= amount.cents
        if state.totalCents > largest { largest = state.totalCents }
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
