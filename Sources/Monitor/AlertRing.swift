import DequeModule

/// The most recent alerts, at most `capacity` of them: the oldest leaves when a new one arrives.
struct AlertRing: Sendable {
    let capacity: Int
    /// Alerts, oldest first.
    private var storage: Deque<Alert> = []

    init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    var count: Int { storage.count }

    mutating func append(_ alert: Alert) {
        guard capacity > 0 else { return }
        if storage.count == capacity { storage.removeFirst() }
        storage.append(alert)
    }

    /// Up to `limit` alerts, newest first.
    func newest(_ limit: Int) -> [Alert] {
        Array(storage.reversed().prefix(max(0, limit)))
    }
}
