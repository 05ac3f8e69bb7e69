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
    /// Ids in first-seen order, as a ring of `capacity` slots.
    private var order: [Key] = []
    private var oldest = 0
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
            if order.count < capacity {
                order.append(id)
            } else {
                // The id forgotten a few steps from now: its slot, and the line after it that the
                // backward shift reads, are cache misses otherwise (`perf annotate`: most of
                // `remove`'s time is the load of the slot after the removed one).
                var ahead = oldest + Self.prefetchDistance
                if ahead >= capacity { ahead %= capacity }  // a division only near the ring's end
                table.prefetchRun(order[ahead])
                table.remove(order[oldest])
                order[oldest] = id
                oldest += 1
                if oldest == capacity { oldest = 0 }
            }
        }
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
