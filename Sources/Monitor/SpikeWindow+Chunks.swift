/// The storage of ``SpikeWindow``: a sorted sequence of chunks of at most
/// ``SpikeWindow/chunkCapacity`` entries, the last of which is `tail`.
///
/// In-order timestamps append to `tail` (a full one moves to `chunks` and a new one starts, so
/// in-order chunks are full); keeping the last chunk in its own property makes that append one
/// array operation, as for a flat array. Eviction advances `head` through the first chunk and
/// drops it once empty; `oldestTimestamp` lets the in-order path skip it while nothing leaves. A late timestamp finds its chunk by a binary search of
/// `chunkFirstTimestamps`, then its place by a binary search of the chunk, and shifts at most one
/// chunk's entries; a full chunk is split in two halves first. Every operation is
/// O(log n + chunkCapacity), plus an O(n / chunkCapacity) move of the chunk list when a chunk is
/// split or dropped (at most once per chunkCapacity / 2 inserts or chunkCapacity evictions).
extension SpikeWindow {
    /// Every chunk in order, `tail` last (for tests and checks; copies only references).
    var allChunks: [[Entry]] { tail.isEmpty ? chunks : chunks + [tail] }

    /// Appends an entry for `timestamp`, newer than every entry held, after bringing the previous
    /// newest entry's count up to date (see `newestPending`).
    @inline(__always)
    mutating func appendNewest(_ timestamp: Int64) {
        let entry = Entry(timestamp: timestamp, count: 1)
        entryCount += 1
        guard !tail.isEmpty else {
            newestPending = 0
            oldestTimestamp = timestamp
            tail.append(entry)
            chunkFirstTimestamps.append(timestamp)
            return
        }
        if newestPending > 0 {
            tail[tail.count - 1].count += newestPending
            newestPending = 0
        }
        if tail.count < Self.chunkCapacity {
            tail.append(entry)
        } else {
            chunks.append(tail)
            tail = []
            tail.reserveCapacity(Self.chunkCapacity)
            tail.append(entry)
            chunkFirstTimestamps.append(timestamp)
        }
    }

    /// Evicts every entry at or before `lowest`, from the front; `tail` holds the newest entry,
    /// which is above `lowest`.
    @inline(__always)
    mutating func evict(atOrBefore lowest: Int64) {
        if lowest >= oldestTimestamp { evictFront(atOrBefore: lowest) }
    }

    /// ``evict(atOrBefore:)`` once it is known that the oldest entry goes.
    private mutating func evictFront(atOrBefore lowest: Int64) {
        defer {
            if let first = chunks.first {
                oldestTimestamp = first[head].timestamp
            } else if head < tail.count {
                oldestTimestamp = tail[head].timestamp
            }
        }
        while !chunks.isEmpty {
            let length = chunks[0].count
            while head < length, chunks[0][head].timestamp <= lowest {
                count -= chunks[0][head].count
                head += 1
                entryCount -= 1
            }
            guard head == length else { return }
            chunks.removeFirst()
            chunkFirstTimestamps.removeFirst()
            head = 0
        }
        while head < tail.count, tail[head].timestamp <= lowest {
            count -= tail[head].count
            head += 1
            entryCount -= 1
        }
    }

    /// Counts `timestamp`, older than the newest entry and newer than every evicted one, in its
    /// sorted place: in an existing entry if one has that timestamp, else in a new entry.
    mutating func insertLate(_ timestamp: Int64) {
        // The last chunk whose first timestamp is at or before `timestamp`, else the first chunk.
        var low = 0
        var high = chunkFirstTimestamps.count
        while low < high {
            let middle = low + (high - low) / 2
            if chunkFirstTimestamps[middle] <= timestamp { low = middle + 1 } else { high = middle }
        }
        var chunkIndex = max(low - 1, 0)
        let start = chunkIndex == 0 ? head : 0
        var position =
            chunkIndex == chunks.count
            ? Self.lowerBound(of: timestamp, in: tail, from: start)
            : Self.lowerBound(of: timestamp, in: chunks[chunkIndex], from: start)
        let found = withChunk(chunkIndex) { chunk in
            guard position < chunk.count, chunk[position].timestamp == timestamp else { return chunk.count }
            chunk[position].count += 1
            return -1
        }
        guard found >= 0 else { return }
        if found >= Self.chunkCapacity {
            (chunkIndex, position) = makeRoom(in: chunkIndex, at: position)
        }
        withChunk(chunkIndex) { $0.insert(Entry(timestamp: timestamp, count: 1), at: position) }
        if timestamp < oldestTimestamp { oldestTimestamp = timestamp }
        if position == 0 { chunkFirstTimestamps[chunkIndex] = timestamp }
        entryCount += 1
    }

    /// Runs `body` on chunk `index` in place (`tail` when `index == chunks.count`).
    @inline(__always)
    private mutating func withChunk<Result>(_ index: Int, _ body: (inout [Entry]) -> Result) -> Result {
        index == chunks.count ? body(&tail) : body(&chunks[index])
    }

    /// The first position in `chunk` from `start` whose timestamp is at or after `timestamp`.
    private static func lowerBound(of timestamp: Int64, in chunk: [Entry], from start: Int) -> Int {
        chunk.withUnsafeBufferPointer { entries in
            var low = start
            var high = entries.count
            while low < high {
                let middle = low + (high - low) / 2
                if entries[middle].timestamp < timestamp { low = middle + 1 } else { high = middle }
            }
            return low
        }
    }

    /// Makes room in the full chunk `chunkIndex` for an insert at `position`: drops the first
    /// chunk's evicted entries if it has any, else splits the chunk into two halves. Returns where
    /// the insert goes now.
    private mutating func makeRoom(in chunkIndex: Int, at position: Int) -> (chunk: Int, position: Int) {
        if chunkIndex == 0, head > 0 {
            let evicted = head
            chunkFirstTimestamps[0] = withChunk(0) { chunk in
                chunk.removeFirst(evicted)
                return chunk[0].timestamp
            }
            head = 0
            return (0, position - evicted)
        }
        let upper = withChunk(chunkIndex) { chunk in
            let half = chunk.count / 2
            defer { chunk.removeSubrange(half...) }
            return Array(chunk[half...])
        }
        if chunkIndex == chunks.count {
            // The tail's lower half joins the chunks; its upper half is the tail now.
            chunks.append(tail)
            tail = upper
        } else {
            chunks.insert(upper, at: chunkIndex + 1)
        }
        chunkFirstTimestamps.insert(upper[0].timestamp, at: chunkIndex + 1)
        let half = Self.chunkCapacity - upper.count
        return position > half ? (chunkIndex + 1, position - half) : (chunkIndex, position)
    }
}
