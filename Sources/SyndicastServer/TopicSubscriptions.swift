import Broker

/// A subscriber's topics and its positions in its loop's per-topic lists, kept compact because
/// every idle stream connection holds one: the well-known topics are bits and four inline slots;
/// custom topics (rare) and the `/broadcast` list spill into two small arrays. A `Set<String>`
/// and a `[String: Int]` would be two heap objects, ~250 bytes per idle connection.
struct TopicSubscriptions {
    /// Topics with an inline slot, in bit order.
    static let wellKnown = [Topic.alerts, Topic.rankings, Topic.transactions, Topic.stats]

    private var mask: UInt8 = 0
    private var slots: (Int32, Int32, Int32, Int32) = (-1, -1, -1, -1)
    private var custom: [String] = []
    private var customSlots: [Int32] = []

    init(_ topics: some Sequence<String>) {
        for topic in topics { insert(topic) }
    }

    private static func bit(_ topic: String) -> Int? {
        switch topic {
        case "alerts": 0
        case "rankings": 1
        case "transactions": 2
        case "stats": 3
        default: nil
        }
    }

    /// Every topic, well-known first.
    var names: [String] {
        var result: [String] = []
        for (index, name) in Self.wellKnown.enumerated() where mask & (1 << index) != 0 {
            result.append(name)
        }
        return result + custom
    }

    var count: Int { mask.nonzeroBitCount + custom.count }

    func contains(_ topic: String) -> Bool {
        if let bit = Self.bit(topic) { return mask & (1 << bit) != 0 }
        return custom.contains(topic)
    }

    /// Adds `topic`; returns whether it was new.
    @discardableResult
    mutating func insert(_ topic: String) -> Bool {
        guard !contains(topic) else { return false }
        if let bit = Self.bit(topic) {
            mask |= 1 << bit
        } else {
            custom.append(topic)
            customSlots.append(-1)
        }
        return true
    }

    /// Removes `topic`; returns whether it was there.
    @discardableResult
    mutating func remove(_ topic: String) -> Bool {
        guard contains(topic) else { return false }
        setPosition(nil, for: topic)
        if let bit = Self.bit(topic) {
            mask &= ~(1 << bit)
        } else if let index = custom.firstIndex(of: topic) {
            custom.remove(at: index)
            customSlots.remove(at: index)
        }
        return true
    }

    /// Where the subscriber sits in its loop's list for `topic` (nil: not listed).
    func position(of topic: String) -> Int? {
        let raw: Int32
        if let bit = Self.bit(topic) {
            raw = withUnsafeBytes(of: slots) { $0.load(fromByteOffset: bit * 4, as: Int32.self) }
        } else if let index = custom.firstIndex(of: topic) {
            raw = customSlots[index]
        } else {
            return nil
        }
        return raw < 0 ? nil : Int(raw)
    }

    mutating func setPosition(_ position: Int?, for topic: String) {
        let raw = Int32(clamping: position ?? -1)
        if let bit = Self.bit(topic) {
            withUnsafeMutableBytes(of: &slots) { $0.storeBytes(of: raw, toByteOffset: bit * 4, as: Int32.self) }
        } else if let index = custom.firstIndex(of: topic) {
            customSlots[index] = raw
        }
    }
}
