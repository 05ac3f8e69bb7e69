/// The last `capacity` sequenced events, for resuming clients (`?since=`, `Last-Event-ID`).
struct HistoryRing {
    private var storage: [BrokerEvent] = []
    private var start = 0
    let capacity: Int

    init(capacity: Int) {
        self.capacity = max(capacity, 1)
    }

    mutating func append(_ event: BrokerEvent) {
        if storage.count < capacity {
            storage.append(event)
        } else {
            storage[start] = event
            start = (start + 1) % capacity
        }
    }

    /// Sequence number of the oldest event held (nil when empty).
    var oldestSeq: UInt64? { storage.isEmpty ? nil : storage[start].seq }

    /// Every held event with `seq > after`, oldest first; nil if some of them are no longer held.
    func events(after: UInt64, through newest: UInt64) -> [BrokerEvent]? {
        if after >= newest { return [] }
        guard let oldest = oldestSeq, oldest <= after + 1 else { return nil }
        var result: [BrokerEvent] = []
        result.reserveCapacity(Int(newest - after))
        for offset in 0..<storage.count {
            let event = storage[(start + offset) % storage.count]
            if event.seq > after { result.append(event) }
        }
        return result
    }
}
