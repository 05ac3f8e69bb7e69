/// The spike rule's clock G and the sweep that empties quiet syndicates' windows
/// (docs/SPIKE-RULE.md).
///
/// G is the newest timestamp the ``TransactionMonitor`` has accepted for any syndicate. It is part of the
/// state the journal's order determines, like everything else in the ``TransactionMonitor``: no wall clock.
struct SpikeRuleClock: Sendable {
    /// G; `Int64.min` before any transaction (its floors are then `nil`, as for no clock).
    private(set) var newest = Int64.min
    /// `G − W − M`: the spike rule ignores a timestamp at or before it; `nil` below `Int64.min`
    /// or when M is unbounded.
    private(set) var ignoreFloor: Int64?
    /// `G − 2W − M`: a window whose newest timestamp is at or before it can never count an
    /// entry again; `nil` below `Int64.min` or when M is unbounded.
    private(set) var expiryFloor: Int64?
    /// The next syndicate ordinal the sweep checks.
    var sweepCursor = 0
    /// Syndicates left to check since G last advanced: the sweep visits every syndicate once
    /// after each advance, a few per transaction.
    var sweepRemaining = 0

    /// Syndicates checked per applied transaction while a sweep is due: amortised O(1), and a
    /// syndicate quiet for more than 2W of rule-clock time is emptied within `syndicates / 2`
    /// transactions.
    static let sweepStep = 2

    /// A clock that has never advanced.
    init() {}

    /// The clock at G = `newest` (`Int64.min`: never advanced), its floors computed from G as
    /// ``advance(to:lagMilliseconds:windowMilliseconds:syndicates:)`` computes them (a snapshot's restore).
    init(newest: Int64, lagMilliseconds lag: Int64?, windowMilliseconds: Int64, sweepCursor: Int, sweepRemaining: Int) {
        if newest > Int64.min { advance(to: newest, lagMilliseconds: lag, windowMilliseconds: windowMilliseconds, syndicates: 0) }
        self.sweepCursor = sweepCursor
        self.sweepRemaining = sweepRemaining
    }

    /// Moves G to `timestamp` if it is newer and starts a sweep of all `syndicates`; callers test
    /// `timestamp > newest` first, so that the floors are only computed on an advance. `lag` is
    /// `W + M` (`nil` when M is unbounded: no floors, no sweep).
    @inline(__always)
    mutating func advance(to timestamp: Int64, lagMilliseconds lag: Int64?, windowMilliseconds: Int64, syndicates: Int) {
        guard timestamp > newest else { return }
        newest = timestamp
        guard let lag else { return }
        let (ignore, ignoreOverflow) = timestamp.subtractingReportingOverflow(lag)
        ignoreFloor = ignoreOverflow ? nil : ignore
        let (expiry, expiryOverflow) = ignore.subtractingReportingOverflow(windowMilliseconds)
        expiryFloor = ignoreOverflow || expiryOverflow ? nil : expiry
        sweepRemaining = syndicates
    }
}

extension TransactionMonitor {
    /// Distinct-timestamp entries held by every syndicate's spike window (a `/metrics` gauge);
    /// O(syndicates).
    public var spikeWindowEntryCount: Int {
        syndicateStates.reduce(0) { $0 + $1.window.entryCount }
    }

    /// The count of `state`'s last window, `(newest − W, newest]`, or 0 once the rule clock has
    /// passed `newest + 2W + M` (the sweep empties such a window whenever it reaches it; the answer
    /// does not depend on whether it has).
    func spikeWindowCount(of state: SyndicateState) -> Int {
        if let floor = spikeClock.expiryFloor, let newest = state.window.newestTimestamp, newest <= floor { return 0 }
        return state.window.count
    }

    /// Checks the next ``SpikeRuleClock/sweepStep`` syndicates round-robin and empties the
    /// window of each whose newest timestamp is at or before `G − 2W − M`.
    mutating func sweepQuietSyndicates() {
        guard let floor = spikeClock.expiryFloor else {
            spikeClock.sweepRemaining = 0
            return
        }
        let steps = min(SpikeRuleClock.sweepStep, spikeClock.sweepRemaining)
        spikeClock.sweepRemaining -= steps
        for _ in 0..<steps {
            if spikeClock.sweepCursor >= syndicateStates.count { spikeClock.sweepCursor = 0 }
            let ordinal = spikeClock.sweepCursor
            spikeClock.sweepCursor += 1
            if syndicateStates[ordinal].window.entryCount > 0, let newest = syndicateStates[ordinal].window.newestTimestamp,
                newest <= floor
            {
                syndicateStates[ordinal].window.expire()
            }
        }
    }
}
