import DequeModule

/// One connection's answers in request order: those ready to be written and those still awaited
/// from another thread (the broker). Only the ready answers at the front may be written.
///
/// Slots are numbered consecutively, so a slot is found by subtraction from the front's number;
/// the `Deque` keeps its capacity between requests (one request at a time, the common case,
/// allocates nothing).
struct PendingReplies {
    /// A place in the answer order, filled later by ``fill(_:_:persist:)``.
    struct Slot: Sendable {
        fileprivate let number: UInt64
    }

    private struct Entry {
        var bytes: [UInt8]?
        /// Whether the connection stays open after this answer.
        var persist: Bool
        /// Body bytes of the request, released when it is answered.
        var bodyBytes: Int
    }

    /// Answers not yet written, in request order.
    private var entries: Deque<Entry> = []
    /// The number of `entries.first`.
    private var firstNumber: UInt64 = 0
    /// Answers reserved and not yet filled.
    private(set) var waitingCount = 0

    /// Entries held (for tests).
    var storedCount: Int { entries.count }

    /// Whether nothing is waiting to be written.
    var isEmpty: Bool { entries.isEmpty }

    /// Reserves the next place for an answer that will come later.
    mutating func reserve(bodyBytes: Int) -> Slot {
        let slot = Slot(number: firstNumber + UInt64(entries.count))
        entries.append(Entry(bytes: nil, persist: true, bodyBytes: bodyBytes))
        waitingCount += 1
        return slot
    }

    /// Queues an answer that is ready now behind the outstanding ones.
    mutating func appendReady(_ bytes: [UInt8], persist: Bool) {
        entries.append(Entry(bytes: bytes, persist: persist, bodyBytes: 0))
    }

    /// Fills a reserved place; returns the body bytes its request held (0 for an unknown slot).
    mutating func fill(_ slot: Slot, _ bytes: [UInt8], persist: Bool) -> Int {
        guard slot.number >= firstNumber else { return 0 }
        let index = Int(slot.number - firstNumber)
        guard index < entries.count, entries[index].bytes == nil else { return 0 }
        entries[index].bytes = bytes
        entries[index].persist = persist
        waitingCount -= 1
        let released = entries[index].bodyBytes
        entries[index].bodyBytes = 0
        return released
    }

    /// Takes the first answer if it is ready.
    mutating func popReady() -> (bytes: [UInt8], persist: Bool)? {
        guard let first = entries.first, let bytes = first.bytes else { return nil }
        entries.removeFirst()
        firstNumber += 1
        return (bytes, first.persist)
    }

    /// Forgets every answer (the connection is closing); later fills are ignored.
    mutating func removeAll() {
        firstNumber += UInt64(entries.count)
        entries.removeAll(keepingCapacity: false)
        waitingCount = 0
    }
}
