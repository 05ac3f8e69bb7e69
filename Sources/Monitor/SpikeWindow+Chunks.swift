/// The storage of ``SpikeWindow``: a sorted sequence of chunks of at most
/// ``SpikeWindow/chunkCapacity`` entries.
///
/// In-order timestamps append to the last chunk (a full one starts a new chunk, so in-order
/// chunks are full); eviction advances `head` through the first chunk and drops it once empty.
/// A late timestamp finds its chunk by a binary search of `chunkFirstTimestamps`, then its place
/// by a binary search of the chunk, and shifts at most one chunk's entries; a full chunk is split
/// in two halves first. Every operation is O(log n + chunkCapacity), plus an O(n / chunkCapacity)
/// move of the chunk list when a chunk is split or dropped (once per chunkCapacity / 2 inserts
/// or chunkCapacity evictions at most).
extension SpikeWindow {
    /// Appends an entry for `timestamp`, newer than every entry held, after bringing the previous
    /// newest entry's count up to date (see `newestPending`).
    @inline(__always)
    mutating func appendNewest(_ timestamp: Int64) {
        let entry = Entry(timestamp: timestamp, count: 1)
        entryCount += 1
        let last = chunks.count - 1
        guard last >= 0 else {
            newestPending = 0
            chunks.append([entry])
            chunkFirstTimestamps.append(timestamp)
            return
        }
        if newestPending > 0 {
            chunks[last][chunks[last].count - 1].count += newestPending
            newestPending = 0
        }
        if chunks[last].count < Self.chunkCapacity {
            chunks[last].append(entry)
        } else {
            var chunk: [Entry] = []
            chunk.reserveCapacity(Self.chunkCapacity)
            chunk.append(entry)
            chunks.append(chunk)
            chunkFirstTimestamps.append(timestamp)
        }
    }

    /// Evicts every entry at or before `lowest`, from the front.
    @inline(__always)
    mutating func evict(atOrBefore lowest: Int64) {
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
        var position = lowerBound(of: timestamp, in: chunkIndex)
        if position < chunks[chunkIndex].count, chunks[chunkIndex][position].timestamp == timestamp {
            chunks[chunkIndex][position].count += 1
            return
        }
        if chunks[chunkIndex].count >= Self.chunkCapacity {
            (chunkIndex, position) = makeRoom(in: chunkIndex, at: position)
        }
        chunks[chunkIndex].insert(Entry(timestamp: timestamp, count: 1), at: position)
        if position == 0 { chunkFirstTimestamps[chunkIndex] = timestamp }
        entryCount += 1
    }

    /// The first position in chunk `chunkIndex` (past `head` in the first chunk) whose timestamp
    /// is at or after `timestamp`.
    private func lowerBound(of timestamp: Int64, in chunkIndex: Int) -> Int {
        var low = chunkIndex == 0 ? head : 0
        var high = chunks[chunkIndex].count
        while low < high {
            let middle = low + (high - low) / 2
            if chunks[chunkIndex][middle].timestamp < timestamp { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Makes room in the full chunk `chunkIndex` for an insert at `position`: drops the first
    /// chunk's evicted entries if it has any, else splits the chunk into two halves. Returns where
    /// the insert goes now.
    private mutating func makeRoom(in chunkIndex: Int, at position: Int) -> (chunk: Int, position: Int) {
        if chunkIndex == 0, head > 0 {
            chunks[0].removeFirst(head)
            chunkFirstTimestamps[0] = chunks[0][0].timestamp
            defer { head = 0 }
            return (0, position - head)
        }
        let half = chunks[chunkIndex].count / 2
        let upper = Array(chunks[chunkIndex][half...])
        chunks[chunkIndex].removeSubrange(half...)
        chunks.insert(upper, at: chunkIndex + 1)
        chunkFirstTimestamps.insert(upper[0].timestamp, at: chunkIndex + 1)
        return position > half ? (chunkIndex + 1, position - half) : (chunkIndex, position)
    }
}
