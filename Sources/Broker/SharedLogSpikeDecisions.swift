import Monitor

/// The spike rule's decisions for one log entry, made by the log (`--spike-store redis`): which
/// transactions raise a spike alert, with their count, and which end a spike. Its text form is
/// the entry's `k` field (docs/CLUSTER.md "Spike rule in Redis"): ASCII tokens separated by one
/// space, ascending, `r.i:c` for transaction `i` of request `r` raising an alert with count `c`,
/// `r.i-` for one whose evaluation ends its syndicate's spike; empty when neither happens.
/// Indices count every transaction of the request, duplicates included (as the skip list does).
public struct SharedLogSpikeDecisions: Sendable, Equatable {
    /// Per request, per transaction index, the decision.
    public private(set) var decisions: [Int: [Int: ExternalSpikeDecision]] = [:]

    /// No decision.
    public init() {}

    /// Whether there is no decision.
    public var isEmpty: Bool { decisions.isEmpty }

    /// Records `decision` for transaction `index` of request `request`.
    public mutating func record(_ decision: ExternalSpikeDecision, request: Int, index: Int) {
        decisions[request, default: [:]][index] = decision
    }

    /// The decisions of request `request`, by transaction index.
    public func decisions(ofRequest request: Int) -> [Int: ExternalSpikeDecision]? {
        decisions[request]
    }

    /// The `k` field.
    public var text: String {
        var tokens: [(request: Int, index: Int, decision: ExternalSpikeDecision)] = []
        for (request, byIndex) in decisions { for (index, decision) in byIndex { tokens.append((request, index, decision)) } }
        tokens.sort { ($0.request, $0.index) < ($1.request, $1.index) }
        return tokens.map { token in
            switch token.decision {
            case .alert(let count): "\(token.request).\(token.index):\(count)"
            case .ended: "\(token.request).\(token.index)-"
            }
        }.joined(separator: " ")
    }

    /// Parses a `k` field; nil if it is not one (a damaged entry).
    public init?(text: some Collection<UInt8>) {
        guard !text.isEmpty else { return }
        for piece in text.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false) {
            let token = Array(piece)
            guard let dot = token.firstIndex(of: UInt8(ascii: ".")), let request = SharedLogFieldNumber.parse(token[..<dot]) else {
                return nil
            }
            let rest = token[token.index(after: dot)...]
            if rest.last == UInt8(ascii: "-") {
                guard let index = SharedLogFieldNumber.parse(rest.dropLast()) else { return nil }
                record(.ended, request: request, index: index)
            } else {
                guard let colon = rest.firstIndex(of: UInt8(ascii: ":")), let index = SharedLogFieldNumber.parse(rest[..<colon]),
                    let count = SharedLogFieldNumber.parse(rest[rest.index(after: colon)...])
                else { return nil }
                record(.alert(count: count), request: request, index: index)
            }
        }
    }
}
