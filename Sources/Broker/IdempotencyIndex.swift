import CLinux
import Glibc
import Monitor

/// The transaction ids the broker remembers, for "re-sending a known `id` is a duplicate".
///
/// Bounded: it keeps the most recent `capacity` ids (first-seen order) and forgets older ones, so a
/// long-running server's memory does not grow with every transaction ever accepted (an unbounded
/// index at 300k tx/s grows by gigabytes an hour). Which ids are known is a pure function of the
/// journal order, so a restart's replay rebuilds exactly the same window.
///
/// One probe per id on the common path: `claim` inserts and reports what was there, and a
/// rejected request's claims are rolled back with `release`.
///
/// Ids are keyed by a 128-bit digest (keyed SipHash-128 of the id, see `Key`) instead of the
/// string itself: no whole-string comparisons on probes and no stored strings. Two distinct ids
/// collide with probability about n²/2¹²⁹ — for a million ids, 10⁻²⁷.
struct IdempotencyIndex {
    /// A 128-bit digest of an id.
    struct Key: Hashable, Sendable {
        let high: UInt64
        let low: UInt64

        init(_ id: String) {
            self = id.withUTF8Bytes { Key(utf8: $0) }
        }

        /// The digest of an id's UTF-8 bytes.
        init(utf8 id: UnsafeBufferPointer<UInt8>) {
            // SipHash-128 with the process's random key: both halves keyed (~4% of the event
            // loop's time under NDJSON ingest as `Hasher` plus a byte-at-a-time FNV-1a).
            let (first, second) = KeyedHash.process.hash128(utf8: id)
            high = first
            // All-zero marks an empty slot of the table; move the one digest that would clash.
            low = (first == 0 && second == 0) ? 1 : second
        }

        /// A digest given directly (tests use it to force probe collisions); never all-zero.
        init(high: UInt64, low: UInt64) {
            self.high = high
            self.low = (high == 0 && low == 0) ? 1 : low
        }
    }

    /// How many ids ahead to prefetch. Each probe is a cache miss in a table of tens of megabytes
    /// (measured without prefetch: ~85% of a probe's time is its first load, ~18% of the broker's
    /// time under NDJSON ingest, `loadtest/run.sh ingest --batch 1000`); eight misses in flight
    /// hide most of that latency.
    static let prefetchDistance = 8

    private let table: DigestTable
    /// Ids in first-seen order: a circular buffer of `capacity` slots, `count` of them live from
    /// `oldest` on.
    private var order: [Key] = []
    private var oldest = 0
    private var liveCount = 0
    /// Ids ever committed: the ordinal of the next one (the oldest live id's is
    /// `committed - liveCount`).
    private var committed = 0
    /// Cluster mode's time bound: per committed batch, the ordinal after its last id and the log
    /// time (milliseconds) of its entry, oldest first; `expire(before:)` forgets whole batches.
    /// Empty in single-node mode, which bounds the window by count alone.
    private var batches: [(end: Int, time: UInt64)] = []
    private var firstBatch = 0
    let capacity: Int

    init(capacity: Int) {
        self.capacity = max(capacity, 1)
        table = DigestTable(capacity: self.capacity)
    }

    var count: Int { table.count }

    /// Records `id` with `fingerprint` unless it is known; returns the fingerprint it already had.
    mutating func claim(_ id: Key, fingerprint: Int) -> Int? {
        table.insertIfAbsent(id, value: fingerprint)
    }

    /// Undoes a `claim` that returned nil (its request was refused).
    mutating func release(_ id: Key) {
        table.remove(id)
    }

    /// The fingerprint remembered for `id`, if any (no change).
    func fingerprint(of id: Key) -> Int? {
        table.value(for: id)
    }

    /// Starts loading `id`'s slot into the cache; call a few ids ahead of `claim`.
    func prefetch(_ id: Key) {
        table.prefetch(id)
    }

    /// Starts loading the slot of the id `prefetchDistance` digests after `index`, if any: call
    /// before claiming `digests[index]` (each claim is otherwise a cache miss).
    @inline(__always)
    func prefetch(ahead index: Int, in digests: [TransactionDigest]) {
        let ahead = index + Self.prefetchDistance
        if ahead < digests.count, let key = digests[ahead].key { table.prefetch(key) }
    }

    /// Makes claims permanent: remembers their order, forgetting the oldest ids past `capacity`.
    mutating func commit(_ ids: [Key]) {
        for id in ids {
            if liveCount == capacity { forgetOldest() }
            var slot = oldest + liveCount
            if slot >= capacity { slot -= capacity }
            // The buffer grows to `capacity` as ids arrive (a window of 50 M ids is not
            // allocated up front); until then the live ids never wrap.
            if slot == order.count { order.append(id) } else { order[slot] = id }
            liveCount += 1
        }
        committed += ids.count
    }

    /// `commit`, remembering that these ids came with log time `time` (milliseconds, never
    /// decreasing) for ``expire(before:)``.
    mutating func commit(_ ids: [Key], time: UInt64) {
        guard !ids.isEmpty else { return }
        commit(ids)
        if firstBatch < batches.count, let last = batches.last, last.time == time {
            batches[batches.count - 1].end = committed
        } else {
            batches.append((committed, time))
        }
    }

    /// Forgets the ids committed with a log time before `cutoff`.
    mutating func expire(before cutoff: UInt64) {
        while firstBatch < batches.count, batches[firstBatch].time < cutoff {
            let end = batches[firstBatch].end
            while liveCount > 0, committed - liveCount < end { forgetOldest() }
            firstBatch += 1
        }
        // Batches that count evictions already emptied, then the array's dead prefix.
        while firstBatch < batches.count, batches[firstBatch].end <= committed - liveCount { firstBatch += 1 }
        if firstBatch > 64, firstBatch * 2 > batches.count {
            batches.removeFirst(firstBatch)
            firstBatch = 0
        }
    }

    /// Removes the oldest live id from the table and the order.
    private mutating func forgetOldest() {
        // The id forgotten a few steps from now: its slot, and the line after it that the
        // backward shift reads, are cache misses otherwise (`perf annotate`: most of
        // `remove`'s time is the load of the slot after the removed one).
        if liveCount > Self.prefetchDistance {
            var ahead = oldest + Self.prefetchDistance
            if ahead >= capacity { ahead -= capacity }
            table.prefetchRun(order[ahead])
        }
        table.remove(order[oldest])
        oldest += 1
        if oldest == capacity { oldest = 0 }
        liveCount -= 1
    }

    /// The window in first-seen order with each id's fingerprint, and the log times of its
    /// batches (cluster mode), for a snapshot.
    var window: IdempotencyWindow {
        var ids: [IdempotencyWindow.Id] = []
        ids.reserveCapacity(liveCount)
        var slot = oldest
        for position in 0..<liveCount {
            // Each fingerprint is a random probe of the table: prefetched a few ids ahead, as the
            // claims are (`syndicast-microbench 5 brokersnapshot`).
            if position + Self.prefetchDistance < liveCount {
                var ahead = slot + Self.prefetchDistance
                if ahead >= capacity { ahead -= capacity }
                table.prefetch(order[ahead])
            }
            let key = order[slot]
            ids.append(IdempotencyWindow.Id(high: key.high, low: key.low, fingerprint: table.value(for: key) ?? 0))
            slot += 1
            if slot == capacity { slot = 0 }
        }
        let first = committed - liveCount
        var times: [IdempotencyWindow.Batch] = []
        var start = first
        for index in firstBatch..<batches.count where batches[index].end > first {
            times.append(IdempotencyWindow.Batch(count: batches[index].end - start, time: batches[index].time))
            start = batches[index].end
        }
        return IdempotencyWindow(ids: ids, batches: times)
    }

    /// An index holding `window` (its newest `capacity` ids, if it holds more).
    init(capacity: Int, restoring window: IdempotencyWindow) {
        self.init(capacity: capacity)
        var next = 0
        func add(_ count: Int, time: UInt64?) {
            let ids = window.ids[next..<min(next + count, window.ids.count)]
            next += ids.count
            var keys: [Key] = []
            keys.reserveCapacity(ids.count)
            for id in ids {
                let key = Key(high: id.high, low: id.low)
                if claim(key, fingerprint: id.fingerprint) == nil { keys.append(key) }
            }
            if let time { commit(keys, time: time) } else { commit(keys) }
        }
        for batch in window.batches { add(batch.count, time: batch.time) }
        if next < window.ids.count { add(window.ids.count - next, time: nil) }
    }
}

/// An ``IdempotencyIndex``'s window as a snapshot carries it: the ids oldest first, with their
/// fingerprints, and (cluster mode) the log times of consecutive runs of them.
public struct IdempotencyWindow: Sendable, Hashable {
    /// One remembered id: its 128-bit digest and its content fingerprint.
    public struct Id: Sendable, Hashable {
        public var high: UInt64
        public var low: UInt64
        public var fingerprint: Int

        public init(high: UInt64, low: UInt64, fingerprint: Int) {
            self.high = high
            self.low = low
            self.fingerprint = fingerprint
        }
    }

    /// `count` consecutive ids (after the previous batch's) committed at log time `time` (ms).
    public struct Batch: Sendable, Hashable {
        public var count: Int
        public var time: UInt64

        public init(count: Int, time: UInt64) {
            self.count = count
            self.time = time
        }
    }

    public var ids: [Id]
    /// Covering `ids` from the first on; ids after the last batch have no time (single-node mode).
    public var batches: [Batch]

    public init(ids: [Id] = [], batches: [Batch] = []) {
        self.ids = ids
        self.batches = batches
    }
}

/// What the broker needs to know about one transaction for idempotency: its id's digest (nil when
/// it has no id) and ``TransactionBatch/Fields/contentFingerprint``. Computed where the request is
/// decoded (an event loop), so the broker thread does not hash strings (measured: hashing was
/// ~15% of the broker's time under NDJSON ingest).
public struct TransactionDigest: Sendable {
    let key: IdempotencyIndex.Key?
    let fingerprint: Int

    /// The digest of one transaction of a batch.
    init(_ transaction: TransactionBatch.Fields) {
        key = transaction.withIdentifierUTF8 { IdempotencyIndex.Key(utf8: $0) }
        fingerprint = transaction.contentFingerprint
    }

    /// One digest per transaction, in order.
    public static func of(_ transactions: [Transaction]) -> [TransactionDigest] {
        var digests: [TransactionDigest] = []
        digests.reserveCapacity(transactions.count)
        TransactionBatch(transactions).forEach { _, transaction in digests.append(TransactionDigest(transaction)) }
        return digests
    }
}

/// An open-addressing hash table from 128-bit digests to `Int`, with linear probing and
/// backward-shift deletion (no tombstones), at most half full.
///
/// Not a `Dictionary<Key, Int>`: the digest is already uniformly distributed, so a
/// multiply-shift of one half picks the slot without running SipHash again, and a slot is one
/// 24-byte record (measured: a dictionary's hashing, probing and deletion are ~30% of the
/// broker's time under NDJSON ingest, `loadtest/run.sh ingest --batch 1000`).
final class DigestTable {
    private struct Slot {
        var high: UInt64
        var low: UInt64
        var value: Int
        var isEmpty: Bool { high == 0 && low == 0 }
    }

    private var slots: UnsafeMutablePointer<Slot>
    private var mask: Int
    private var shift: UInt64
    private(set) var count = 0

    private var byteCount: Int

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        (slots, byteCount, mask, shift) = Self.allocate(size)
    }

    deinit {
        munmap(slots, byteCount)
    }

    /// Zeroed (all-empty) memory for `size` slots (a power of two), its length, and the mask and
    /// shift that map keys onto it.
    private static func allocate(_ size: Int) -> (UnsafeMutablePointer<Slot>, Int, Int, UInt64) {
        let byteCount = size * MemoryLayout<Slot>.stride
        // Anonymous pages read as zero (empty slots) and cost nothing until touched. Asking for
        // transparent huge pages matters: every probe lands on a random slot of a table of tens of
        // megabytes, and with 4 KiB pages each one also missed the TLB.
        guard let memory = mmap(nil, byteCount, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
            memory != MAP_FAILED
        else {
            fatalError("cannot allocate the idempotency table (\(size) slots)")
        }
        _ = madvise(memory, byteCount, Int32(MADV_HUGEPAGE))
        return (
            memory.bindMemory(to: Slot.self, capacity: size), byteCount, size - 1, UInt64(64 - size.trailingZeroBitCount)
        )
    }

    /// Doubles the table. Sized for twice the window, it fills only when one request claims more
    /// new ids than the window holds (a batch of 100,000 against `--idempotency-window 10`),
    /// and a full table's probe would never end.
    private func grow() {
        let (oldSlots, oldByteCount, oldSize) = (slots, byteCount, mask + 1)
        (slots, byteCount, mask, shift) = Self.allocate(oldSize * 2)
        for index in 0..<oldSize where !oldSlots[index].isEmpty {
            var target = home(oldSlots[index].high)
            while !slots[target].isEmpty { target = (target + 1) & mask }
            slots[target] = oldSlots[index]
        }
        munmap(oldSlots, oldByteCount)
    }

    /// The slot a key hashes to, from its high half: it is keyed per process, so ids cannot be
    /// chosen to pile onto one probe run. Homing on the high half alone keeps the table safe
    /// whatever the low half is.
    @inline(__always)
    private func home(_ high: UInt64) -> Int {
        Int(truncatingIfNeeded: (high &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    /// Starts loading the cache line of `key`'s home slot.
    @inline(__always)
    func prefetch(_ key: IdempotencyIndex.Key) {
        clinux_prefetch(slots + home(key.high))
    }

    /// Starts loading `key`'s home slot and the cache line after it (for a removal, whose backward
    /// shift reads the slots that follow).
    @inline(__always)
    func prefetchRun(_ key: IdempotencyIndex.Key) {
        let slot = UnsafeRawPointer(slots + home(key.high))
        clinux_prefetch(slot)
        clinux_prefetch(slot + 64)
    }

    /// The slot holding `key`, or the empty slot ending its probe run.
    private func find(_ key: IdempotencyIndex.Key) -> (index: Int, found: Bool) {
        var index = home(key.high)
        while true {
            let slot = slots[index]
            if slot.isEmpty { return (index, false) }
            if slot.low == key.low, slot.high == key.high { return (index, true) }
            index = (index + 1) & mask
        }
    }

    /// How many slots past its home slot `key` sits, or nil if absent (for tests: probe runs must
    /// stay short whatever the ids are).
    func probeDistance(_ key: IdempotencyIndex.Key) -> Int? {
        let (index, found) = find(key)
        return found ? (index - home(key.high)) & mask : nil
    }

    /// Inserts `key` → `value` unless `key` is present; returns the present value, if any.
    func insertIfAbsent(_ key: IdempotencyIndex.Key, value: Int) -> Int? {
        var (index, found) = find(key)
        if found { return slots[index].value }
        if (count + 1) * 4 > (mask + 1) * 3 {
            grow()
            index = find(key).index
        }
        slots[index] = Slot(high: key.high, low: key.low, value: value)
        count += 1
        return nil
    }

    /// The value stored for `key`, if any.
    func value(for key: IdempotencyIndex.Key) -> Int? {
        let (index, found) = find(key)
        return found ? slots[index].value : nil
    }

    /// Removes `key` if present, shifting later members of its probe run back into the gap.
    func remove(_ key: IdempotencyIndex.Key) {
        let (index, found) = find(key)
        guard found else { return }
        var gap = index
        var next = (gap + 1) & mask
        while !slots[next].isEmpty {
            let wanted = home(slots[next].high)
            // Move `next` into the gap unless its home lies cyclically in (gap, next].
            let distanceToNext = (next - wanted) & mask
            let distanceToGap = (gap - wanted) & mask
            if distanceToGap < distanceToNext {
                slots[gap] = slots[next]
                gap = next
            }
            next = (next + 1) & mask
        }
        slots[gap] = Slot(high: 0, low: 0, value: 0)
        count -= 1
    }
}
