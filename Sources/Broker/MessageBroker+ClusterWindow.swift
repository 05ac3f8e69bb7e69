import Monitor

/// Cluster mode's idempotency window: the broker's ``IdempotencyIndex`` built from the records of
/// the log's entries, in order (docs/CLUSTER.md "The idempotency window"). Every instance applies
/// the same entries, so every instance holds the same window; a group is checked against it
/// before its append (``GroupWindowCheck``), and the log checks the entries after it.
extension MessageBroker {
    /// Adds an applied entry's records to the window, with the entry's log time (its position's
    /// milliseconds), then forgets the ids older than the time bound.
    func remember(_ records: [UInt8], at position: SharedLogPosition) {
        var added: [IdempotencyIndex.Key] = []
        records.withUnsafeBytes { records in
            let count = records.count / SharedLogRecords.size
            added.reserveCapacity(count)
            for index in 0..<count {
                // Each claim is a cache miss in a table of tens of megabytes, as in single-node mode.
                if index + IdempotencyIndex.prefetchDistance < count,
                    let ahead = SharedLogRecords.record(index + IdempotencyIndex.prefetchDistance, in: records)
                {
                    knownIds.prefetch(ahead.key)
                }
                guard let (key, fingerprint) = SharedLogRecords.record(index, in: records) else { continue }
                if knownIds.claim(key, fingerprint: fingerprint) == nil { added.append(key) }
            }
        }
        knownIds.commit(added, time: position.high)
        if let lifetime = configuration.idempotencyLifetimeMilliseconds, position.high > lifetime {
            knownIds.expire(before: position.high - lifetime)
        }
    }
}

/// The check of one commit group's requests against the window as of the last applied entry,
/// request by request: what to refuse at once, what is all duplicates, and what to append with
/// which known duplicates. Also notes whether an id occurs twice among what is appended (the log
/// then checks inside the group).
struct GroupWindowCheck {
    enum Outcome {
        /// A transaction reuses a remembered id with other content: the request is refused.
        case conflict([TransactionValidationError.Detail])
        /// Every transaction is a remembered duplicate: nothing to append.
        case allDuplicates
        case append(SharedLogRequest)
    }

    let records: SharedLogRecords
    /// The non-duplicate ids of the requests checked so far.
    private var ids: Set<IdempotencyIndex.Key> = []
    private(set) var repeatsIds = false

    init(records: SharedLogRecords) {
        self.records = records
    }

    mutating func check(_ transactions: [Transaction], against window: IdempotencyIndex) -> Outcome {
        let bytes = records.records(of: transactions)
        var known: [Int] = []
        var conflicts: [TransactionValidationError.Detail] = []
        var fresh: [IdempotencyIndex.Key] = []
        bytes.withUnsafeBytes { bytes in
            for index in transactions.indices {
                if index + IdempotencyIndex.prefetchDistance < transactions.count,
                    let ahead = SharedLogRecords.record(index + IdempotencyIndex.prefetchDistance, in: bytes)
                {
                    window.prefetch(ahead.key)
                }
                guard let (key, fingerprint) = SharedLogRecords.record(index, in: bytes) else { continue }
                guard let stored = window.fingerprint(of: key) else {
                    fresh.append(key)
                    continue
                }
                if stored == fingerprint {
                    known.append(index)
                } else {
                    let id = transactions[index].id ?? ""
                    conflicts.append(.init(index: index, field: "id", reason: "id \"\(id)\" was already used with different content"))
                }
            }
        }
        if !conflicts.isEmpty { return .conflict(conflicts) }
        if known.count == transactions.count { return .allDuplicates }
        for key in fresh where !ids.insert(key).inserted { repeatsIds = true }
        return .append(SharedLogRequest(transactions: transactions, records: bytes, knownDuplicates: known))
    }
}
