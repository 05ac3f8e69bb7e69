/// Restoring a ``TransactionMonitor`` from ``TransactionMonitor/encodeSnapshot()``'s bytes
/// (the format is documented in TransactionMonitor+Snapshot.swift).
///
/// Every read is bounds-checked and every value checked against what a monitor can hold (ids
/// distinct, ordinals in range, window entries ascending and summing to at most the syndicate's
/// transactions, the leaders distinct investors), so damaged or hostile bytes are a
/// ``MonitorSnapshotError`` and never a trap, now or when the restored monitor applies more.
extension TransactionMonitor {
    /// Restores the monitor `snapshot` holds. Throws if the bytes are damaged or truncated, or if
    /// the snapshot was taken under a configuration other than `configuration`.
    public init(snapshot bytes: [UInt8], configuration: MonitorConfiguration) throws(MonitorSnapshotError) {
        let headerCount = Self.snapshotMagic.count + 1
        guard bytes.count >= Self.snapshotMagic.count, bytes[..<Self.snapshotMagic.count].elementsEqual(Self.snapshotMagic) else {
            throw bytes.count < Self.snapshotMagic.count && bytes.elementsEqual(Self.snapshotMagic.prefix(bytes.count))
                ? .truncated : .notASnapshot
        }
        guard bytes.count > Self.snapshotMagic.count else { throw .truncated }
        let version = bytes[Self.snapshotMagic.count]
        guard version == Self.snapshotFormatVersion else { throw .unsupportedVersion(version) }
        guard bytes.count >= headerCount + 8 else { throw .truncated }
        let bodyEnd = bytes.count - 8
        var stored: UInt64 = 0
        for index in 0..<8 { stored |= UInt64(bytes[bodyEnd + index]) << UInt64(8 * index) }
        guard stored == SnapshotReader.checksum(of: bytes[..<bodyEnd]) else { throw .checksumMismatch }
        var reader = SnapshotReader(bytes, from: headerCount, to: bodyEnd)
        try self.init(reading: &reader, configuration: configuration)
    }

    /// Restores from the fields after the version byte, without the checksum (the fuzz target
    /// reaches every check through this).
    init(reading reader: inout SnapshotReader, configuration expected: MonitorConfiguration) throws(MonitorSnapshotError) {
        let configuration = try Self.readConfiguration(&reader)
        guard configuration == expected else { throw .configurationMismatch(snapshot: configuration, expected: expected) }
        self.init(configuration: configuration)
        counts.transactions = try reader.readCount("transactions")
        counts.rejected = try reader.readCount("rejected")
        counts.amountAlerts = try reader.readCount("amount alerts")
        counts.spikeAlerts = try reader.readCount("spike alerts")
        counts.rankingChanges = try reader.readCount("ranking changes")
        try readSyndicates(&reader)
        try readInvestors(&reader)
        try readLeaders(&reader)

        let newest = try reader.readSigned()
        let cursor = try reader.readCount(atMost: syndicateStates.count, "sweep cursor")
        let remaining = try reader.readCount(atMost: syndicateStates.count, "sweep remaining")
        spikeClock = SpikeRuleClock(
            newest: newest, lagMilliseconds: configuration.spikeClockLagMilliseconds,
            windowMilliseconds: configuration.spikeWindowMilliseconds, sweepCursor: cursor, sweepRemaining: remaining)
        try checkWindowsAgainstClock()

        let alertCount = try reader.readCount(atMost: recentAlertRing.capacity, "alert count")
        for _ in 0..<alertCount { recentAlertRing.append(try Self.readAlert(&reader)) }
        try reader.expectEnd()
    }

    static func readConfiguration(_ reader: inout SnapshotReader) throws(MonitorSnapshotError) -> MonitorConfiguration {
        let threshold = try reader.readSigned()
        let window = try reader.readSigned()
        let spikeThreshold = try reader.readSigned()
        let topK = try reader.readSigned()
        let capacity = try reader.readSigned()
        let margin: Int64?
        switch try reader.readByte() {
        case 0: margin = nil
        case 1: margin = try reader.readSigned()
        default: throw .malformed("margin flag")
        }
        // Int is 64 bits on every platform the server runs on; on a narrower one these refuse.
        guard let spikeThreshold = Int(exactly: spikeThreshold), let topK = Int(exactly: topK), let capacity = Int(exactly: capacity)
        else { throw .malformed("configuration out of range") }
        return MonitorConfiguration(
            amountThreshold: Money(cents: threshold), spikeWindowSeconds: window, spikeThreshold: spikeThreshold, topK: topK,
            recentAlertCapacity: capacity, spikeClockMarginSeconds: margin)
    }

    private mutating func readSyndicates(_ reader: inout SnapshotReader) throws(MonitorSnapshotError) {
        // Each syndicate takes at least five bytes: the bound keeps a hostile count from reserving memory.
        let count = try reader.readCount(atMost: reader.remaining / 5, "syndicate count")
        var table = IdentifierTable(minimumCapacity: count)
        syndicateStates.reserveCapacity(count)
        var active = 0
        for ordinal in 0..<count {
            let id = try reader.readString()
            guard table.insert(KeyedIdentifier(id)) == Int32(ordinal) else { throw .malformed("duplicate syndicate id") }
            let total = try reader.readTotal()
            let transactionCount = try reader.readCount("syndicate transactions")
            let window = try readWindow(&reader, transactionCount: transactionCount)
            if transactionCount > 0 { active += 1 }
            syndicateStates.append(SyndicateState(window: window, total: total, transactionCount: transactionCount))
        }
        rankings.syndicateIndex = table
        counts.syndicates = active
    }

    private func readWindow(_ reader: inout SnapshotReader, transactionCount: Int) throws(MonitorSnapshotError) -> SpikeWindow {
        let flags = try reader.readByte()
        guard flags & ~3 == 0 else { throw .malformed("window flags") }
        let newest: Int64? = flags & 1 != 0 ? try reader.readSigned() : nil
        let entryCount = try reader.readCount(atMost: reader.remaining / 2, "window entries")
        var entries: [SpikeWindow.Entry] = []
        entries.reserveCapacity(entryCount)
        var sum = 0
        var previous = Int64.min
        for index in 0..<entryCount {
            let timestamp: Int64
            if index == 0 {
                timestamp = try reader.readSigned()
            } else {
                let delta = try reader.readVarint()
                let next = previous &+ Int64(bitPattern: delta)
                guard delta > 0, next > previous else { throw .malformed("window timestamps not ascending") }
                timestamp = next
            }
            let count = try reader.readCount("window entry count")
            let (total, overflow) = sum.addingReportingOverflow(count)
            guard count > 0, !overflow, total <= transactionCount else { throw .malformed("window counts exceed the transactions") }
            sum = total
            entries.append(SpikeWindow.Entry(timestamp: timestamp, count: count))
            previous = timestamp
        }
        if let last = entries.last {
            guard last.timestamp == newest else { throw .malformed("newest window entry is not the newest timestamp") }
        } else if flags & 2 != 0 && newest == nil {
            throw .malformed("spiking window without a timestamp")
        }
        return SpikeWindow(
            windowMilliseconds: configuration.spikeWindowMilliseconds, threshold: configuration.spikeThreshold, entries: entries,
            count: sum, newestTimestamp: newest, isSpiking: flags & 2 != 0)
    }

    /// G is the newest timestamp of all, so no window is newer. A window with a newest timestamp
    /// but no entries exists only after the sweep emptied it (its newest at or before G − 2W − M);
    /// any other is refused, since a late timestamp would then need an entry to join.
    private func checkWindowsAgainstClock() throws(MonitorSnapshotError) {
        for state in syndicateStates {
            guard let newest = state.window.newestTimestamp else { continue }
            guard newest <= spikeClock.newest else { throw .malformed("a window is newer than the rule clock") }
            guard state.window.entryCount == 0 else { continue }
            guard let floor = spikeClock.expiryFloor, newest <= floor else { throw .malformed("empty window not yet expired") }
        }
    }

    private mutating func readInvestors(_ reader: inout SnapshotReader) throws(MonitorSnapshotError) {
        let count = try reader.readCount(atMost: reader.remaining / 5, "investor count")
        let syndicateCount = syndicateStates.count
        var table = IdentifierTable(minimumCapacity: count)
        rankings.investorStates.reserveCapacity(count)
        for ordinal in 0..<count {
            let id = try reader.readString()
            guard table.insert(KeyedIdentifier(id)) == Int32(ordinal) else { throw .malformed("duplicate investor id") }
            var state = Rankings.InvestorState()
            state.total = try reader.readTotal()
            state.transactionCount = try reader.readCount("investor transactions")
            let memberCount = try reader.readCount(atMost: min(syndicateCount, state.transactionCount), "investor syndicates")
            var member = -1
            for _ in 0..<memberCount {
                let delta = try reader.readCount(atMost: syndicateCount, "syndicate ordinal")
                member += delta
                guard delta > 0, member < syndicateCount else { throw .malformed("syndicate ordinals not ascending or out of range") }
                state.syndicates.insert(Int32(member))
            }
            rankings.investorStates.append(state)
        }
        rankings.investorIndex = table
        counts.investors = count
    }

    private mutating func readLeaders(_ reader: inout SnapshotReader) throws(MonitorSnapshotError) {
        let investorCount = rankings.investorStates.count
        // The leaders fill up to K as investors arrive, and stay in rank order.
        let count = try reader.readCount(atMost: min(rankings.topCount, investorCount), "leader count")
        guard count == min(rankings.topCount, investorCount) else { throw .malformed("\(count) leaders for \(investorCount) investors") }
        for _ in 0..<count {
            let ordinal = try reader.readCount(atMost: investorCount, "leader ordinal")
            guard ordinal < investorCount else { throw .malformed("leader ordinal \(ordinal) out of range") }
            let investor = Int32(ordinal)
            guard !rankings.leaders.contains(where: { $0.investor == investor }) else { throw .malformed("duplicate leader") }
            let state = rankings.investorStates[ordinal]
            rankings.leaders.append(
                RankingKey(
                    investorId: rankings.investorIndex.identifiers[ordinal], investor: investor,
                    syndicateCount: state.syndicates.count, total: state.total))
            let leaders = rankings.leaders
            if leaders.count > 1, !leaders[leaders.count - 2].ranksBefore(leaders[leaders.count - 1]) {
                throw .malformed("leaders out of rank order")
            }
        }
    }

    static func readAlert(_ reader: inout SnapshotReader) throws(MonitorSnapshotError) -> Alert {
        let id = try reader.readString()
        let syndicateId = try reader.readString()
        let investorId = try reader.readString()
        let flags = try reader.readByte()
        guard flags & ~3 == 0 else { throw .malformed("alert flags") }
        let transactionId: String? = flags & 1 != 0 ? try reader.readString() : nil
        let details: Alert.Details
        if flags & 2 != 0 {
            let count = try reader.readCount("alert count")
            let windowSeconds = try reader.readSigned()
            guard let threshold = Int(exactly: try reader.readSigned()) else { throw .malformed("alert threshold") }
            details = .syndicateSpike(count: count, windowSeconds: windowSeconds, threshold: threshold)
        } else {
            details = .amountThreshold(amount: Money(cents: try reader.readSigned()), threshold: Money(cents: try reader.readSigned()))
        }
        return Alert(
            id: id, syndicateId: syndicateId, investorId: investorId, transactionId: transactionId, details: details,
            at: try reader.readSigned())
    }
}
