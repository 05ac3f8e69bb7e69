import Broker
import Redis

/// The ingest script's call and reply (CLUSTER-CONTRACT.md "The ingest script"): the arguments
/// one commit group becomes, and the reply turned into a ``SharedLogAppendResult``.
enum IngestScriptReply {
    /// `ARGV`: the applied position, payload, the repeats flag, R, then per request `n_r`, its
    /// records and its known duplicates; the spike section last (`--spike-store redis`).
    static func arguments(for group: SharedLogGroup) -> [[UInt8]] {
        var count = 4 + 3 * group.requests.count
        if let rule = group.spikeRule { count += rule.argumentCount(of: group) }
        var arguments: [[UInt8]] = []
        arguments.reserveCapacity(count)
        arguments.append(Array((group.after ?? SharedLogPosition(high: 0, low: 0)).description.utf8))
        arguments.append(group.payload)
        arguments.append(group.repeatsIds ? [UInt8(ascii: "1")] : [UInt8(ascii: "0")])
        arguments.append(Array(String(group.requests.count).utf8))
        for request in group.requests {
            arguments.append(Array(String(request.transactions.count).utf8))
            arguments.append(request.records)
            arguments.append(Array(request.knownDuplicates.map(String.init).joined(separator: " ").utf8))
        }
        // `--spike-store redis`: the script's spike section (rule flags, then each transaction's
        // syndicate, time and id) after the requests.
        group.spikeRule?.forEachArgument(of: group) { arguments.append(Array($0)) }
        return arguments
    }

    /// The script's reply for a group of `requestCount` requests: `[entry id or nil, results]`,
    /// a result `{0, duplicates}` or `{1, index…}`. An error reply, or any other shape, is a
    /// failure (nothing is applied; the requests are answered 503).
    static func parse(_ reply: RESPValue, requestCount: Int) -> Result<SharedLogAppendResult, SharedLogError> {
        if case .error(let message) = reply {
            return .failure(SharedLogError("redis refused the ingest script: \(String(decoding: message, as: UTF8.self))"))
        }
        func malformed(_ what: String) -> Result<SharedLogAppendResult, SharedLogError> {
            .failure(SharedLogError("unexpected ingest script reply (\(what)): \(reply.description.prefix(200))"))
        }
        guard let parts = reply.array, parts.count == 2 else { return malformed("not a two-element array") }
        let position: SharedLogPosition?
        switch parts[0] {
        case .bulkString(nil), .array(nil):
            position = nil
        case .bulkString(let bytes?):
            guard let parsed = SharedLogPosition(streamId: String(decoding: bytes, as: UTF8.self)) else {
                return malformed("entry id")
            }
            position = parsed
        default:
            return malformed("entry id")
        }
        guard let results = parts[1].array, results.count == requestCount else { return malformed("result count") }
        var outcomes: [SharedLogRequestOutcome] = []
        outcomes.reserveCapacity(results.count)
        for result in results {
            guard let fields = result.array, let kind = fields.first?.integer else { return malformed("request result") }
            let numbers = fields.dropFirst().compactMap { $0.integer.flatMap { Int(exactly: $0) } }
            guard numbers.count == fields.count - 1, numbers.allSatisfy({ $0 >= 0 }) else { return malformed("request result") }
            switch kind {
            case 0 where numbers.count == 1:
                outcomes.append(.accepted(duplicates: numbers[0]))
            case 1 where !numbers.isEmpty:
                outcomes.append(.conflict(indices: numbers))
            default:
                return malformed("request result")
            }
        }
        return .success(SharedLogAppendResult(position: position, requests: outcomes))
    }
}
