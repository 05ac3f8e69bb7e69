/// What applying a log entry leaves out: requests refused as a whole (a conflict) and single
/// duplicate transactions. Its text form is the entry's `s` field (CLUSTER-CONTRACT.md): ASCII
/// tokens separated by one space, ascending, `r` for a refused request, `r.i` for transaction `i`
/// of request `r`; empty when nothing is skipped.
public struct SharedLogSkipSet: Sendable, Equatable {
    /// Refused requests, ascending.
    public private(set) var refused: [Int] = []
    /// Per request with duplicates, their transaction indices, ascending.
    public private(set) var duplicates: [Int: [Int]] = [:]

    /// Nothing skipped.
    public init() {}

    /// Whether nothing is skipped.
    public var isEmpty: Bool { refused.isEmpty && duplicates.isEmpty }

    /// Marks request `request` refused.
    public mutating func refuse(_ request: Int) {
        refused.append(request)
        refused.sort()
    }

    /// Marks transaction `index` of request `request` a duplicate.
    public mutating func skipDuplicate(request: Int, index: Int) {
        duplicates[request, default: []].append(index)
        duplicates[request]?.sort()
    }

    /// Whether request `request` is refused.
    public func isRefused(_ request: Int) -> Bool {
        refused.contains(request)
    }

    /// The `s` field.
    public var text: String {
        var tokens: [(request: Int, index: Int?)] = refused.map { ($0, nil) }
        for (request, indices) in duplicates { tokens += indices.map { (request, $0) } }
        tokens.sort { left, right in
            left.request != right.request ? left.request < right.request : (left.index ?? -1) < (right.index ?? -1)
        }
        return tokens.map { token in token.index.map { "\(token.request).\($0)" } ?? "\(token.request)" }.joined(separator: " ")
    }

    /// Parses an `s` field; nil if it is not one (a damaged entry).
    public init?(text: some Collection<UInt8>) {
        guard !text.isEmpty else { return }
        for token in text.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false) {
            let parts = token.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
            guard parts.count <= 2, let request = SharedLogFieldNumber.parse(parts[0]) else { return nil }
            if parts.count == 1 {
                refused.append(request)
            } else {
                guard let index = SharedLogFieldNumber.parse(parts[1]) else { return nil }
                duplicates[request, default: []].append(index)
            }
        }
        refused.sort()
        for request in duplicates.keys { duplicates[request]?.sort() }
    }
}
