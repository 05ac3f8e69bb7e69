import CLinux
import Glibc

/// A connection's pending writes: references to shared chunks plus how far the first one is sent.
///
/// Holds no storage while empty, so an idle connection pays only for the struct itself.
/// `writev` sends as many chunks as fit in one call; a partial write advances `headOffset`.
///
/// The common case — one chunk queued between two flushes (a fan-out event to a subscriber
/// that keeps up) — lives in `single` and never allocates: an array per delivery cost a malloc
/// and a free for every message of a fan-out.
///
/// Two or more chunks sit in an array read from `head`: swift-collections' `Deque` cost more
/// server CPU in the fixed-rate fan-out (`loadtest/c/run.sh --rate 100`, 36 % against 32 %).
struct OutboundQueue {
    /// The only queued chunk, when there is exactly one (then `chunks` is empty).
    private var single: ByteChunk?
    private var chunks: [ByteChunk] = []
    private var head = 0
    private var headOffset = 0
    /// Bytes queued and not yet written.
    private(set) var byteCount = 0

    var isEmpty: Bool { byteCount == 0 }

    /// Heap bytes one queued chunk costs beyond its payload: the `ByteChunk` object (~48 bytes
    /// from malloc), its storage's rounding (a 2-byte pong still takes a 32-byte block) and the
    /// array slot. Counted so a flood of tiny replies (6-byte WebSocket pings each answered by a
    /// 2-byte pong) passes the soft bound by its real memory, not by its payload alone.
    static let chunkOverhead = 96

    /// Chunks queued and not yet fully written.
    var chunkCount: Int { single == nil ? chunks.count - head : 1 }

    /// What the queue holds in memory, approximately: payload plus per-chunk bookkeeping.
    var footprint: Int { byteCount + chunkCount * Self.chunkOverhead }

    mutating func append(_ chunk: ByteChunk) {
        if chunk.count == 0 { return }
        byteCount += chunk.count
        if let first = single {
            // A second chunk: move to the array (the partial-write offset stays with the first).
            single = nil
            chunks = [first, chunk]
            head = 0
        } else if chunks.isEmpty {
            single = chunk
        } else {
            chunks.append(chunk)
        }
    }

    /// Appends several chunks with at most one allocation (a fan-out pass hands a subscriber
    /// every event of the iteration at once).
    mutating func append(contentsOf newChunks: [ByteChunk]) {
        if newChunks.count == 1 {
            append(newChunks[0])
            return
        }
        if chunks.isEmpty {
            chunks.reserveCapacity((single == nil ? 0 : 1) + newChunks.count)
            if let first = single {
                single = nil
                chunks.append(first)
                head = 0
            }
        }
        for chunk in newChunks where chunk.count > 0 {
            byteCount += chunk.count
            chunks.append(chunk)
        }
    }

    /// The result of one flush attempt.
    enum FlushResult {
        /// Everything was written.
        case drained
        /// The socket buffer is full; wait for `EPOLLOUT`.
        case wouldBlock
        /// The peer is gone or the socket failed.
        case failed(Int32)
    }

    /// Writes as much as the socket takes, with one `writev` per up to 64 chunks.
    mutating func flush(fd: Int32, iovecs: UnsafeMutablePointer<iovec>, capacity: Int) -> FlushResult {
        if let chunk = single {
            return flushSingle(chunk, fd: fd)
        }
        while head < chunks.count {
            var count = 0
            var index = head
            var offset = headOffset
            while index < chunks.count && count < capacity {
                let chunk = chunks[index]
                iovecs[count] = iovec(
                    iov_base: UnsafeMutableRawPointer(mutating: chunk.base + offset),
                    iov_len: chunk.count - offset)
                count += 1
                index += 1
                offset = 0
            }
            let written = writev(fd, iovecs, Int32(count))
            if written < 0 {
                let code = clinux_errno()
                if code == EINTR { continue }
                if code == EAGAIN || code == EWOULDBLOCK { return .wouldBlock }
                return .failed(code)
            }
            advance(by: written)
            if head < chunks.count && written < totalLength(iovecs, count) {
                return .wouldBlock
            }
        }
        reset()
        return .drained
    }

    private mutating func flushSingle(_ chunk: ByteChunk, fd: Int32) -> FlushResult {
        while true {
            let written = Glibc.write(fd, chunk.base + headOffset, chunk.count - headOffset)
            if written < 0 {
                let code = clinux_errno()
                if code == EINTR { continue }
                if code == EAGAIN || code == EWOULDBLOCK { return .wouldBlock }
                return .failed(code)
            }
            headOffset += written
            byteCount -= written
            if headOffset < chunk.count { return .wouldBlock }
            reset()
            return .drained
        }
    }

    private func totalLength(_ iovecs: UnsafeMutablePointer<iovec>, _ count: Int) -> Int {
        var total = 0
        for index in 0..<count { total += iovecs[index].iov_len }
        return total
    }

    private mutating func advance(by written: Int) {
        var remaining = written
        byteCount -= written
        while remaining > 0 && head < chunks.count {
            let left = chunks[head].count - headOffset
            if remaining >= left {
                remaining -= left
                head += 1
                headOffset = 0
            } else {
                headOffset += remaining
                remaining = 0
            }
        }
        if head == chunks.count {
            reset()
        } else if head > 32 && head * 2 > chunks.count {
            chunks.removeFirst(head)
            head = 0
        }
    }

    /// Takes up to about `limit` bytes from the front, in order, handing each piece to `body`
    /// with whether more pieces follow in this call (TLS seals them into records).
    mutating func consume(upTo limit: Int, _ body: (UnsafeRawBufferPointer, Bool) -> Void) {
        if let chunk = single {
            let count = min(chunk.count - headOffset, limit)
            body(UnsafeRawBufferPointer(start: chunk.base + headOffset, count: count), false)
            headOffset += count
            byteCount -= count
            if headOffset == chunk.count { reset() }
            return
        }
        var taken = 0
        var index = head
        var offset = headOffset
        while index < chunks.count && taken < limit {
            let chunk = chunks[index]
            let count = min(chunk.count - offset, limit - taken)
            taken += count
            let more = index + 1 < chunks.count && taken < limit
            body(UnsafeRawBufferPointer(start: chunk.base + offset, count: count), more)
            index += 1
            offset = 0
        }
        advance(by: taken)
    }

    /// Drops everything and releases the storage.
    mutating func reset() {
        single = nil
        chunks = []
        head = 0
        headOffset = 0
        byteCount = 0
    }
}
