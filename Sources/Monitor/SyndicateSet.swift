/// The distinct syndicates of one investor, as ordinals handed out by ``Rankings`` (one per
/// syndicate id it has seen).
///
/// Every transaction asks "is this one new?", so the common case must be cheap:
/// - Ordinals below 128 (the first 128 syndicates the server sees) are two bit words stored in
///   the set itself: one bit test, no memory beyond the investor's own state. Measured: a
///   sorted-array search for these is the broker's top symbol under NDJSON ingest (~5% of the
///   server's CPU samples even branch-free, a few cache lines of a separate allocation per
///   investor; `loadtest/run.sh ingest --batch 1000`).
/// - Larger ordinals are a sorted array searched by bisection. Past `arrayLimit` of them, where
///   each new member would shift a long array, they move to a `Set`.
///
/// Not a `Set<String>` per investor: its string hashing and scattered tables are ~11% of the
/// broker's time under NDJSON ingest.
struct SyndicateSet: Sendable {
    static let arrayLimit = 1_024
    /// Ordinals below this are bits of `inline`.
    static let inlineOrdinals: Int32 = 128

    private var inline: (UInt64, UInt64) = (0, 0)
    private var sorted: [Int32] = []
    private var hashed: Set<Int32>?

    var count: Int { inline.0.nonzeroBitCount + inline.1.nonzeroBitCount + (hashed?.count ?? sorted.count) }

    /// Adds `ordinal`; returns whether it was new.
    @discardableResult
    mutating func insert(_ ordinal: Int32) -> Bool {
        if ordinal >= 0 && ordinal < Self.inlineOrdinals {
            let bit = UInt64(1) << UInt64(ordinal & 63)
            if ordinal < 64 {
                guard inline.0 & bit == 0 else { return false }
                inline.0 |= bit
            } else {
                guard inline.1 & bit == 0 else { return false }
                inline.1 |= bit
            }
            return true
        }
        if var set = hashed {
            hashed = nil  // keep the set uniquely referenced while it is mutated
            defer { hashed = set }
            return set.insert(ordinal).inserted
        }
        let low = Self.lowerBound(of: ordinal, in: sorted)
        if low < sorted.count, sorted[low] == ordinal { return false }
        if sorted.count == Self.arrayLimit {
            var set = Set(sorted)
            set.insert(ordinal)
            hashed = set
            sorted = []
            return true
        }
        sorted.insert(ordinal, at: low)
        return true
    }

    /// The first position in `sorted` whose member is not less than `ordinal`.
    ///
    /// Branch-free bisection: each step picks the half with a conditional move, so the
    /// unpredictable "left or right" costs no mispredicted branch (measured: the branching
    /// bisection made `insert` the broker's top symbol under NDJSON ingest, ~12% of its time).
    @inline(__always)
    static func lowerBound(of ordinal: Int32, in sorted: [Int32]) -> Int {
        sorted.withUnsafeBufferPointer { members in
            var length = members.count
            guard length > 0 else { return 0 }
            var base = 0
            while length > 1 {
                let half = length / 2
                base = members[base + half] < ordinal ? base + half : base
                length -= half
            }
            return members[base] < ordinal ? base + 1 : base
        }
    }

    /// Every member, in no particular order.
    var members: [Int32] {
        var result: [Int32] = []
        for (word, offset) in [(inline.0, Int32(0)), (inline.1, Int32(64))] {
            var bits = word
            while bits != 0 {
                result.append(offset + Int32(bits.trailingZeroBitCount))
                bits &= bits - 1
            }
        }
        result += hashed.map(Array.init) ?? sorted
        return result
    }
}
