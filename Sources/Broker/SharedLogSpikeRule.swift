import Monitor

/// The spike rule's flags as a shared log evaluates it (`--spike-store redis`): W, S and the
/// clock margin M, and the ingest script's optional spike section they head (docs/CLUSTER.md
/// "Spike rule in Redis").
///
/// The section follows the last request: `spike`, W in ms, S, M in ms (`-` when M is
/// unbounded), then for every transaction of every transactions request, in order (duplicates
/// included: the log decides those), its syndicate id, its timestamp in ms and its id (empty
/// when it has none: the window's member). A log writes it
/// with ``forEachArgument(of:_:)`` after the group's own arguments; ``argumentCount(of:)`` says
/// how many that adds.
public struct SharedLogSpikeRule: Sendable, Hashable {
    /// W in milliseconds (at least 1).
    public var windowMilliseconds: Int64
    /// S: an evaluation alerts when its count exceeds it.
    public var threshold: Int
    /// M in milliseconds; nil when unbounded (no ignore floor, no expiry).
    public var marginMilliseconds: Int64?

    public init(windowMilliseconds: Int64, threshold: Int, marginMilliseconds: Int64?) {
        self.windowMilliseconds = max(1, windowMilliseconds)
        self.threshold = threshold
        self.marginMilliseconds = marginMilliseconds
    }

    /// The flags of `configuration`, as the in-process rule reads them.
    public init(configuration: MonitorConfiguration) {
        let window = configuration.spikeWindowMilliseconds
        let margin = configuration.spikeClockLagMilliseconds.map { $0 - window }
        self.init(windowMilliseconds: window, threshold: max(0, configuration.spikeThreshold), marginMilliseconds: margin)
    }

    /// The values the section adds to a call for `group`: 4 + 3 per transaction.
    public func argumentCount(of group: SharedLogGroup) -> Int {
        group.requests.reduce(4) { $0 + 3 * $1.transactions.count }
    }

    /// Calls `body` with each value of the section for `group`, in order; the buffer is valid
    /// during the call only.
    public func forEachArgument(of group: SharedLogGroup, _ body: (UnsafeBufferPointer<UInt8>) throws -> Void) rethrows {
        var text = "spike"
        try text.withUTF8(body)
        for number in [windowMilliseconds, Int64(threshold)] {
            text = String(number)
            try text.withUTF8(body)
        }
        text = marginMilliseconds.map { String($0) } ?? "-"
        try text.withUTF8(body)
        for request in group.requests {
            for transaction in request.transactions {
                var syndicate = transaction.syndicateId
                try syndicate.withUTF8(body)
                text = String(transaction.timestamp)
                try text.withUTF8(body)
                var id = transaction.id ?? ""
                try id.withUTF8(body)
            }
        }
    }

    /// The section as byte strings (tests, and logs that build an argument array).
    public func arguments(of group: SharedLogGroup) -> [[UInt8]] {
        var values: [[UInt8]] = []
        values.reserveCapacity(argumentCount(of: group))
        forEachArgument(of: group) { values.append(Array($0)) }
        return values
    }
}
