/// A fixed-capacity ring of the most recent alerts.
struct AlertRing: Sendable {
    let capacity: Int
    private var storage: [Alert] = []
    /// Where the next alert goes once the ring is full.
    private var next = 0

    init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    var count: Int { storage.count }

    mutating func append(_ alert: Alert) {
        guard capacity > 0 else { return }
        if storage.count < capacity {
            storage.append(alert)
        } else {
            storage[next] = alert
            next = (next + 1) % capacity
        }
    }

    /// Up to `limit` alerts, newest first.
    func newest(_ limit: Int) -> [Alert] {
        let wanted = min(max(0, limit), storage.count)
        guard wanted > 0 else { return [] }
        var result: [Alert] = []
        result.reserveCapacity(wanted)
        // The newest alert sits just before `next` (or at the end while not yet full).
        var position = storage.count < capacity ? storage.count - 1 : (next + capacity - 1) % capacity
        for _ in 0..<wanted {
            result.append(storage[position])
            position = position == 0 ? storage.count - 1 : position - 1
        }
        return result
    }
}
