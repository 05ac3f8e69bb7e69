import Broker
import Redis

/// The stream replies the reading parses: `XREAD` and `XINFO STREAM`.
enum StreamReply {
    /// The entries of an `XREAD` reply on one stream (none for the null reply of a block that
    /// timed out), in order; nil when the reply has another shape.
    static func entries(_ reply: RESPValue) -> [SharedLogEntry]? {
        if reply.isNull { return [] }
        guard let streams = reply.array else { return nil }
        var result: [SharedLogEntry] = []
        for stream in streams {
            guard let pair = stream.array, pair.count == 2, let items = pair[1].array else { return nil }
            result.reserveCapacity(result.count + items.count)
            for item in items {
                guard let parts = item.array, parts.count == 2, let idBytes = parts[0].bytes,
                    let position = SharedLogPosition(streamId: String(decoding: idBytes, as: UTF8.self))
                else { return nil }
                result.append(entry(at: position, fields: parts[1].array ?? []))
            }
        }
        return result
    }

    /// An entry from its field list (`p` payload, `s` skip list, `i` records, `k` spike decisions
    /// with `--spike-store redis`); without `s` (or with a damaged `s` or `k`) its skip set is nil, so
    /// every instance skips it whole.
    static func entry(at position: SharedLogPosition, fields: [RESPValue]) -> SharedLogEntry {
        var payload: [UInt8] = []
        var skip: [UInt8]?
        var spikes: [UInt8]?
        var records: [UInt8] = []
        var index = 0
        while index + 1 < fields.count {
            switch fields[index].bytes {
            case [UInt8(ascii: "p")]?: payload = fields[index + 1].bytes ?? []
            case [UInt8(ascii: "s")]?: skip = fields[index + 1].bytes
            case [UInt8(ascii: "k")]?: spikes = fields[index + 1].bytes
            case [UInt8(ascii: "i")]?: records = fields[index + 1].bytes ?? []
            default: break
            }
            index += 2
        }
        return SharedLogEntry(position: position, payload: payload, skipText: skip, spikeText: spikes, records: records)
    }

    /// What `XINFO STREAM` says about where the stream ends and what was removed from it.
    struct Info: Equatable {
        /// The last entry's id; nil when the stream is empty or missing.
        var lastEntry: SharedLogPosition?
        /// The first entry's id; nil when the stream is empty or missing.
        var firstEntry: SharedLogPosition?
        /// The highest id removed by `XDEL` (Redis ≥ 7; `XTRIM` leaves it at 0-0); nil when not reported.
        var maxDeletedEntry: SharedLogPosition?
        /// Entries ever added and entries now held (Redis ≥ 7): their difference is what was removed.
        var entriesAdded: Int64?
        var length: Int64?

        /// Whether entries after `position` (nil: the start) were removed, so reading from it would
        /// skip them: an `XDEL` past it, or a trimmed head (`XTRIM`, `MAXLEN`) while `position` is
        /// before the first entry left. (When `position` is exactly the last entry trimmed this
        /// says gap too: nothing tells that id apart; the instance then restarts from the snapshot.)
        func removesEntries(after position: SharedLogPosition?) -> SharedLogPosition? {
            let from = position ?? SharedLogPosition(high: 0, low: 0)
            if let deleted = maxDeletedEntry, deleted > from { return deleted }
            if let added = entriesAdded, let length, added > length, let first = firstEntry, from < first { return first }
            return nil
        }
    }

    /// Parses an `XINFO STREAM` reply; the "no such key" error is an empty stream. Nil for
    /// another error or shape.
    static func info(_ reply: RESPValue) -> Info? {
        if reply.isError {
            return reply.string?.contains("no such key") == true ? Info() : nil
        }
        guard let fields = reply.array else { return nil }
        var info = Info()
        var index = 0
        while index + 1 < fields.count {
            let value = fields[index + 1]
            switch fields[index].string {
            case "last-entry":
                if let entry = value.array, let id = entry.first?.string { info.lastEntry = SharedLogPosition(streamId: id) }
            case "first-entry":
                if let entry = value.array, let id = entry.first?.string { info.firstEntry = SharedLogPosition(streamId: id) }
            case "entries-added":
                info.entriesAdded = value.integer
            case "length":
                info.length = value.integer
            case "max-deleted-entry-id":
                info.maxDeletedEntry = value.string.flatMap { SharedLogPosition(streamId: $0) }
            default:
                break
            }
            index += 2
        }
        return info
    }
}
