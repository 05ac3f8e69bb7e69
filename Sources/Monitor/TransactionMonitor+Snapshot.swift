/// The snapshot of a ``TransactionMonitor``: everything its future behaviour depends on, so that
/// an instance restored from it and fed the entries after it produces the same state, events and
/// alert ids as one that applied every entry from the start (cluster mode's bounded catch-up,
/// issue 15).
///
/// Layout (version 1); integers are unsigned LEB128 varints in their shortest form, `zigzag`
/// marks a signed value, `string` is `length bytes` (valid UTF-8), `total` is `low high` (the
/// two words of a ``MoneyTotal``):
/// ```
/// snapshot      = "SYNM" version:u8(=1) configuration counts syndicates investors leaders clock
///                 alerts checksum:u64le
/// configuration = amountThresholdCents:zigzag spikeWindowSeconds:zigzag spikeThreshold:zigzag
///                 topK:zigzag recentAlertCapacity:zigzag hasMargin:u8 [marginSeconds:zigzag]
/// counts        = transactions rejected amountAlerts spikeAlerts rankingChanges
/// syndicates    = count (id:string total transactionCount window)*        ; by ordinal
/// window        = flags:u8 (bit 0: newest present, bit 1: spiking) [newest:zigzag]
///                 entryCount [firstTimestamp:zigzag count (timestampDelta count)*]
/// investors     = count (id:string total transactionCount memberCount ordinalDelta*)*  ; by ordinal
/// leaders       = count investorOrdinal*                                  ; best first
/// clock         = newest:zigzag sweepCursor sweepRemaining                ; G, Int64.min if none
/// alerts        = count alert*                                            ; oldest first
/// alert         = id:string syndicateId:string investorId:string flags:u8 (bit 0: transaction id
///                 present, bit 1: spike rule) [transactionId:string] details at:zigzag
/// details       = amountCents:zigzag thresholdCents:zigzag                 ; amount rule
///               | count windowSeconds:zigzag threshold:zigzag              ; spike rule
/// ```
/// Window entries are the live `(timestamp, count)` pairs in ascending order (`timestampDelta`
/// > 0 from the previous one); a syndicate's member ordinals ascend likewise (first absolute).
/// The checksum is SipHash-1-3 with a fixed key over every byte before it.
///
/// Every stored property of the monitor and its members, and where it goes:
/// - `configuration`: recorded; a restore under another configuration is refused
///   (``MonitorSnapshotError/configurationMismatch(snapshot:expected:)``). `amountRule`, the
///   windows' W and S, `Rankings.topCount` and the ring's capacity are derived from it.
/// - `counts`: the five counters above; `investors` and `syndicates` are derived (the number of
///   investors, of syndicates with a transaction), as ``TransactionMonitor`` keeps them.
/// - `rankings.investorIndex`, `rankings.syndicateIndex` (``IdentifierTable``): the ids in
///   ordinal order; the tables are rebuilt by inserting them in that order, which gives the same
///   ordinals (their hash keys are per process and are never stored).
/// - `rankings.investorStates`: `total`, `transactionCount` and the members of `syndicates`
///   (``SyndicateSet``'s inline bits, sorted array or hashed set is a function of its members).
/// - `rankings.leaders`: the leaders' ordinals in order; each key is rebuilt from its investor's
///   state, which a leader's key always equals.
/// - `syndicateStates`: `total`, `transactionCount`, and the ``SpikeWindow``: `newestTimestamp`,
///   `isSpiking` and the live entries. `newestPending` is folded into the newest entry's count,
///   `count` is the entries' sum, `entryCount`, `oldestTimestamp` and `chunkFirstTimestamps` are
///   read off the entries, `head` is 0 and the chunks are cut as in-order appends cut them (the
///   layout changes cost, not results).
/// - `spikeClock`: G (`newest`), `sweepCursor`, `sweepRemaining`; both floors are functions of G
///   and the configuration.
/// - `recentAlertRing`: the alerts oldest first, re-appended on restore (the ring's rotation
///   `next` is not observable); the alert id counter is `counts.amountAlerts + spikeAlerts`.
extension TransactionMonitor {
    /// The first bytes of every snapshot.
    static let snapshotMagic: [UInt8] = Array("SYNM".utf8)
    /// The format version written.
    public static let snapshotFormatVersion: UInt8 = 1

    /// The snapshot of this monitor (see the extension's documentation for the format).
    ///
    /// O(state): 1M transactions over 100k investors and 1k syndicates give 6.4 MB in ~40 ms,
    /// restored in ~50 ms (`syndicast-microbench 5 snapshot`). The monitor is a value, so the
    /// broker can hand a copy to another thread to encode; its next transaction then pays ~4 ms
    /// for copying the arrays it writes to.
    public func encodeSnapshot() -> [UInt8] {
        let investorCount = rankings.investorStates.count
        var writer = SnapshotWriter(capacity: 64 + investorCount * 48 + syndicateStates.count * 64)
        for byte in Self.snapshotMagic { writer.write(byte) }
        writer.write(Self.snapshotFormatVersion)
        Self.write(configuration, to: &writer)
        writer.writeCount(counts.transactions)
        writer.writeCount(counts.rejected)
        writer.writeCount(counts.amountAlerts)
        writer.writeCount(counts.spikeAlerts)
        writer.writeCount(counts.rankingChanges)

        let syndicateIds = rankings.syndicateIndex.identifiers
        writer.writeCount(syndicateIds.count)
        let empty = SyndicateState(
            window: SpikeWindow(windowMilliseconds: configuration.spikeWindowMilliseconds, threshold: configuration.spikeThreshold))
        for (ordinal, id) in syndicateIds.enumerated() {
            writer.writeString(id)
            let state = ordinal < syndicateStates.count ? syndicateStates[ordinal] : empty
            writer.writeTotal(state.total)
            writer.writeCount(state.transactionCount)
            Self.write(state.window, to: &writer)
        }

        writer.writeCount(investorCount)
        var members: [Int32] = []
        for (id, state) in zip(rankings.investorIndex.identifiers, rankings.investorStates) {
            writer.writeString(id)
            writer.writeTotal(state.total)
            writer.writeCount(state.transactionCount)
            members = state.syndicates.members
            members.sort()
            writer.writeCount(members.count)
            var previous: Int32 = -1
            for member in members {
                writer.writeVarint(UInt64(member - previous))
                previous = member
            }
        }
        writer.writeCount(rankings.leaders.count)
        for leader in rankings.leaders { writer.writeCount(Int(leader.investor)) }

        writer.writeSigned(spikeClock.newest)
        writer.writeCount(spikeClock.sweepCursor)
        writer.writeCount(spikeClock.sweepRemaining)

        let alerts = recentAlertRing.newest(recentAlertRing.count)
        writer.writeCount(alerts.count)
        for alert in alerts.reversed() { Self.write(alert, to: &writer) }
        writer.finish()
        return writer.bytes
    }

    static func write(_ configuration: MonitorConfiguration, to writer: inout SnapshotWriter) {
        writer.writeSigned(configuration.amountThreshold.cents)
        writer.writeSigned(configuration.spikeWindowSeconds)
        writer.writeSigned(Int64(configuration.spikeThreshold))
        writer.writeSigned(Int64(configuration.topK))
        writer.writeSigned(Int64(configuration.recentAlertCapacity))
        if let margin = configuration.spikeClockMarginSeconds {
            writer.write(1)
            writer.writeSigned(margin)
        } else {
            writer.write(0)
        }
    }

    static func write(_ window: SpikeWindow, to writer: inout SnapshotWriter) {
        writer.write((window.newestTimestamp == nil ? 0 : 1) | (window.isSpiking ? 2 : 0))
        if let newest = window.newestTimestamp { writer.writeSigned(newest) }
        var live: [SpikeWindow.Entry] = []
        live.reserveCapacity(window.entryCount)
        for (index, chunk) in window.allChunks.enumerated() { live += chunk[(index == 0 ? window.head : 0)...] }
        // The newest entry's transactions not yet added to it (`newestPending`).
        if !live.isEmpty { live[live.count - 1].count += window.newestPending }
        writer.writeCount(live.count)
        var previous: Int64?
        for entry in live {
            if let previous {
                writer.writeVarint(UInt64(bitPattern: entry.timestamp &- previous))
            } else {
                writer.writeSigned(entry.timestamp)
            }
            writer.writeCount(entry.count)
            previous = entry.timestamp
        }
    }

    static func write(_ alert: Alert, to writer: inout SnapshotWriter) {
        writer.writeString(alert.id)
        writer.writeString(alert.syndicateId)
        writer.writeString(alert.investorId)
        var flags: UInt8 = alert.transactionId == nil ? 0 : 1
        if case .syndicateSpike = alert.details { flags |= 2 }
        writer.write(flags)
        if let transactionId = alert.transactionId { writer.writeString(transactionId) }
        switch alert.details {
        case .amountThreshold(let amount, let threshold):
            writer.writeSigned(amount.cents)
            writer.writeSigned(threshold.cents)
        case .syndicateSpike(let count, let windowSeconds, let threshold):
            writer.writeCount(count)
            writer.writeSigned(windowSeconds)
            writer.writeSigned(Int64(threshold))
        }
        writer.writeSigned(alert.at)
    }
}
