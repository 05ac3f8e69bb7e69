import Broker
import Redis

/// The ingest script's call and reply (CLUSTER-CONTRACT.md "The ingest script"): the arguments
/// one commit group becomes, and the reply turned into a ``SharedLogAppendResult``.
enum IngestScriptReply {
    /// `ARGV`: ttl, payload, R, then per request `n_r` and `n_r` pairs id, fingerprint.
    static func arguments(for group: SharedLogGroup, ttl: [UInt8]) -> [[UInt8]] {
        var count = 3 + group.requests.count
        for request in group.requests { count += 2 * request.transactions.count }
        if let rule = group.spikeRule { count += rule.argumentCount(of: group) }
        var arguments: [[UInt8]] = []
        arguments.reserveCapacity(count)
        arguments.append(ttl)
        arguments.append(group.payload)
        arguments.append(Array(String(group.requests.count).utf8))
        for request in group.requests {
            arguments.append(Array(String(request.transactions.count).utf8))
            request.forEachKey { id, fingerprint in
                arguments.append(Array(id))
                arguments.append(digest(fingerprint))
            }
        }
        // `--spike-store redis`: the script's spike section (rule flags, then each transaction's
        // syndicate and time) after the pairs.
        group.spikeRule?.forEachArgument(of: group) { arguments.append(Array($0)) }
        return arguments
    }

    /// The fingerprint as stored in Redis: its 64-bit FNV-1a digest, 8 bytes big-endian, the same
    /// on every instance. Shorter values make the script's hash writes and the AOF smaller; two
    /// contents for one id collide with probability 2⁻⁶⁴ (the re-send would count as a duplicate).
    static func digest(_ fingerprint: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in fingerprint {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return withUnsafeBytes(of: hash.bigEndian) { Array($0) }
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
