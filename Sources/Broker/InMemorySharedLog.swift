import Synchronization

/// A ``SharedLog`` in memory, shared by several brokers of one process (tests), with the
/// contract's semantics exactly (the ingest script's): idempotency decided per request in order
/// against the records of the entries after the group's position and inside the group, a
/// conflict refusing only its request, one entry per group that has something to apply, the skip
/// set and the records of the requests not refused.
///
/// Appends complete synchronously on the caller's thread; entries are delivered to every reading
/// on the appending thread, before the append's completion runs (so a broker may apply its own
/// entry before it knows it appended it), unless delivery is held (``holdDelivery()``).
///
/// A group with a ``SharedLogSpikeRule`` gets the spike decisions the ingest script would give
/// (``SharedLogSpikeEvaluator``), in its entry's ``SharedLogEntry/spikes``.
///
/// Fault injection: ``failNextAppends(_:message:)``, ``holdDelivery()``/``releaseDelivery()``
/// ``holdCompletions()``/``releaseCompletions()`` (an append in flight) and
/// ``appendDamaged(payload:)``.
public final class InMemorySharedLog: SharedLog {
    public let epoch: String
    public let records: SharedLogRecords
    /// The most entries that may follow a group's position (the script's limit).
    public static let behindLimit = 1_000

    private struct Reader {
        var next: Int
        /// The entry count when reading started: ``SharedLogDelivery/caughtUp`` follows entry
        /// `caughtUpAt - 1`.
        let caughtUpAt: Int
        var announcedCaughtUp = false
        let deliver: @Sendable (SharedLogDelivery) -> Void
    }

    private struct State {
        var entries: [SharedLogEntry] = []
        var readers: [Int: Reader] = [:]
        var nextReader = 0
        var failures: [String] = []
        var held = false
        var appendCount = 0
        /// The spike rule's state, once a group carries a ``SharedLogSpikeRule``.
        var spikeEvaluator: SharedLogSpikeEvaluator?
        /// Completions waiting for ``releaseCompletions()``, when held.
        var heldCompletions: [@Sendable () -> Void]?
    }

    private let state = Mutex(State())

    public init(epoch: String = "0123456789abcdef", records: SharedLogRecords = SharedLogRecords(key0: 0x5359_4e44, key1: 0x4341_5354)) {
        self.epoch = epoch
        self.records = records
    }

    /// The next `count` appends fail with `message` (nothing appended, nothing remembered).
    public func failNextAppends(_ count: Int = 1, message: String = "shared log unavailable") {
        state.withLock { $0.failures += Array(repeating: message, count: count) }
    }

    /// Stops delivering entries to readings (appends go on and complete); ``releaseDelivery()``
    /// delivers what was held, in order.
    public func holdDelivery() {
        state.withLock { $0.held = true }
    }

    /// Delivers everything held and resumes delivery as entries are appended.
    public func releaseDelivery() {
        state.withLock { state in
            state.held = false
            Self.pump(&state)
        }
    }

    /// Keeps the completions of later appends (the appends themselves happen) until
    /// ``releaseCompletions()``: the appends stay in flight for their brokers.
    public func holdCompletions() {
        state.withLock { $0.heldCompletions = $0.heldCompletions ?? [] }
    }

    /// Runs the held completions in order and stops holding them.
    public func releaseCompletions() {
        let held = state.withLock { state in
            defer { state.heldCompletions = nil }
            return state.heldCompletions ?? []
        }
        for completion in held { completion() }
    }

    /// Appends an entry whose skip list is damaged (as a damaged `s` field reads).
    public func appendDamaged(payload: [UInt8]) {
        state.withLock { state in
            state.entries.append(
                SharedLogEntry(position: SharedLogPosition(high: 0, low: UInt64(state.entries.count + 1)), payload: payload, skip: nil))
            Self.pump(&state)
        }
    }

    /// The entries appended so far.
    public var entries: [SharedLogEntry] { state.withLock { $0.entries } }

    /// How many append calls completed (failed ones included).
    public var appendCount: Int { state.withLock { $0.appendCount } }

    public func append(group: SharedLogGroup, completion: @escaping @Sendable (Result<SharedLogAppendResult, SharedLogError>) -> Void) {
        let result = state.withLock { state -> Result<SharedLogAppendResult, SharedLogError> in
            state.appendCount += 1
            if !state.failures.isEmpty { return .failure(SharedLogError(state.failures.removeFirst())) }
            let first = group.after.map { after in state.entries.firstIndex { $0.position > after } ?? state.entries.count } ?? 0
            guard state.entries.count - first <= Self.behindLimit else {
                return .failure(SharedLogError("the caller is more than \(Self.behindLimit) entries behind the log"))
            }
            let decision = Self.decide(group, following: state.entries[first...])
            guard decision.applies else { return .success(SharedLogAppendResult(position: nil, requests: decision.outcomes)) }
            let position = SharedLogPosition(high: 0, low: UInt64(state.entries.count + 1))
            var spikes: SharedLogSpikeDecisions?
            if let rule = group.spikeRule {
                if state.spikeEvaluator?.rule != rule { state.spikeEvaluator = SharedLogSpikeEvaluator(rule: rule) }
                spikes = state.spikeEvaluator?.evaluate(group, skip: decision.skip)
            }
            state.entries.append(
                SharedLogEntry(position: position, payload: group.payload, skip: decision.skip, spikes: spikes, records: decision.records))
            Self.pump(&state)
            return .success(SharedLogAppendResult(position: position, requests: decision.outcomes))
        }
        let held = state.withLock { state in
            state.heldCompletions?.append { completion(result) }
            return state.heldCompletions != nil
        }
        if !held { completion(result) }
    }

    public func read(after position: SharedLogPosition?, deliver: @escaping @Sendable (SharedLogDelivery) -> Void) -> any SharedLogReading {
        let identifier = state.withLock { state -> Int in
            let next = position.map { after in state.entries.firstIndex { $0.position > after } ?? state.entries.count } ?? 0
            let identifier = state.nextReader
            state.nextReader += 1
            state.readers[identifier] = Reader(next: next, caughtUpAt: state.entries.count, deliver: deliver)
            Self.pump(&state)
            return identifier
        }
        return Reading(log: self, identifier: identifier)
    }

    /// Removes a reading (under the lock, so no delivery is under way once it returns).
    fileprivate func cancel(reader identifier: Int) {
        _ = state.withLock { $0.readers.removeValue(forKey: identifier) }
    }

    /// Delivers to every reader what it has not had, in order, unless held.
    private static func pump(_ state: inout State) {
        guard !state.held else { return }
        for identifier in state.readers.keys.sorted() {
            guard var reader = state.readers[identifier] else { continue }
            while reader.next < state.entries.count {
                reader.deliver(.entry(state.entries[reader.next]))
                reader.next += 1
            }
            if !reader.announcedCaughtUp && reader.next >= reader.caughtUpAt {
                reader.announcedCaughtUp = true
                reader.deliver(.caughtUp)
            }
            state.readers[identifier] = reader
        }
    }

    /// The contract's ingest decision for one call after the entries `following` the group's
    /// position, without writing anything: the outcomes, the skip set, the new entry's records,
    /// and whether anything applies.
    static func decide(
        _ group: SharedLogGroup, following: ArraySlice<SharedLogEntry>
    ) -> (outcomes: [SharedLogRequestOutcome], skip: SharedLogSkipSet, records: [UInt8], applies: Bool) {
        var recent: [IdempotencyIndex.Key: Int] = [:]
        for entry in following {
            entry.records.withUnsafeBytes { records in
                for index in 0..<records.count / SharedLogRecords.size {
                    if let (key, fingerprint) = SharedLogRecords.record(index, in: records) { recent[key] = fingerprint }
                }
            }
        }
        // As the script: per transaction only when an entry follows or ids may repeat.
        let checkEach = !following.isEmpty || group.repeatsIds
        var seen: [IdempotencyIndex.Key: Int] = [:]
        var outcomes: [SharedLogRequestOutcome] = []
        var skip = SharedLogSkipSet()
        var kept: [UInt8] = []
        var applies = false
        for (request, item) in group.requests.enumerated() {
            guard !item.isMessage else {
                outcomes.append(.accepted(duplicates: 0))
                applies = true
                continue
            }
            var duplicates = Set(item.knownDuplicates)
            var conflicts: [Int] = []
            var fresh: [IdempotencyIndex.Key] = []
            if checkEach {
                item.records.withUnsafeBytes { records in
                    for index in item.transactions.indices where !duplicates.contains(index) {
                        guard let (key, fingerprint) = SharedLogRecords.record(index, in: records) else { continue }
                        guard let known = seen[key] ?? recent[key] else {
                            if group.repeatsIds {
                                seen[key] = fingerprint
                                fresh.append(key)
                            }
                            continue
                        }
                        if known == fingerprint { duplicates.insert(index) } else { conflicts.append(index) }
                    }
                }
            }
            if !conflicts.isEmpty {
                for key in fresh { seen[key] = nil }
                outcomes.append(.conflict(indices: conflicts))
                skip.refuse(request)
                continue
            }
            for index in duplicates.sorted() { skip.skipDuplicate(request: request, index: index) }
            kept += item.records
            outcomes.append(.accepted(duplicates: duplicates.count))
            if duplicates.count < item.transactions.count { applies = true }
        }
        return (outcomes, skip, kept, applies)
    }

    /// A reading of an ``InMemorySharedLog``.
    private struct Reading: SharedLogReading {
        let log: InMemorySharedLog
        let identifier: Int

        func cancel() {
            log.cancel(reader: identifier)
        }
    }
}
