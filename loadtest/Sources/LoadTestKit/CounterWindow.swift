/// Which publisher counters one subscriber has seen, tolerant of bounded reordering.
///
/// A 256-bit window slides over the counters: a counter inside it is new (its bit is set now) or a
/// duplicate (already set); one below it is counted as a duplicate; one above it slides the window.
/// Alerts from several concurrent POST connections can reach the journal out of counter order, but
/// never by more than the publisher's in-flight window, which stays below 256.
/// Loss is computed at the end as "accepted by the server − unique received".
public struct CounterWindow: Sendable, Equatable {
    /// Width of the window in counters.
    public static let width = 256

    /// The lowest counter the window covers.
    public private(set) var base = 0
    private var word0: UInt64 = 0
    private var word1: UInt64 = 0
    private var word2: UInt64 = 0
    private var word3: UInt64 = 0
    /// Distinct counters seen.
    public private(set) var unique = 0
    /// Counters seen again, or too old to tell (below the window).
    public private(set) var duplicates = 0

    /// Creates an empty window starting at counter 0.
    public init() {}

    /// Records `counter`; returns true when it is seen for the first time.
    @discardableResult
    public mutating func record(_ counter: Int) -> Bool {
        guard counter >= base else {
            duplicates += 1
            return false
        }
        if counter - base >= Self.width {
            slide(to: counter - Self.width + 1)
        }
        let slot = counter & (Self.width - 1)
        let bit: UInt64 = 1 << UInt64(slot & 63)
        let isNew: Bool
        switch slot >> 6 {
        case 0: isNew = word0 & bit == 0; word0 |= bit
        case 1: isNew = word1 & bit == 0; word1 |= bit
        case 2: isNew = word2 & bit == 0; word2 |= bit
        default: isNew = word3 & bit == 0; word3 |= bit
        }
        if isNew { unique += 1 } else { duplicates += 1 }
        return isNew
    }

    /// Moves the window's base up to `newBase`, clearing the bits of the counters that leave it.
    private mutating func slide(to newBase: Int) {
        if newBase - base >= Self.width {
            word0 = 0
            word1 = 0
            word2 = 0
            word3 = 0
        } else {
            for counter in base..<newBase {
                let slot = counter & (Self.width - 1)
                let mask = ~(UInt64(1) << UInt64(slot & 63))
                switch slot >> 6 {
                case 0: word0 &= mask
                case 1: word1 &= mask
                case 2: word2 &= mask
                default: word3 &= mask
                }
            }
        }
        base = newBase
    }
}
