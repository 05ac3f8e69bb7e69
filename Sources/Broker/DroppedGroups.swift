/// Commit groups the broker's history no longer holds, handed to the server to be released on
/// the thread that allocated their transactions (see ``MessageBroker/releaseDroppedGroups(_:)``).
///
/// A dropped group usually holds the last reference to its requests' transactions, whose id
/// strings an event loop allocated. Freed on the broker, every string goes through glibc's
/// cross-thread path (the broker's small cache fills at once, then each free locks the loop's
/// arena, which the loop's own allocations contend for), and the loop never gets its memory back
/// in its thread cache: ~5% of durable NDJSON ingest's CPU in `free`/`malloc` (perf). Released on
/// an event loop, durable NDJSON ingest runs ~9% faster with 9% less server CPU per transaction
/// (`loadtest/run.sh ingest --batch 1000`).
///
/// Only large groups (NDJSON batches) are handed over: small ones (single POSTs) are released on
/// the broker, because for them the event loop is the busier thread: handing their frees to it
/// costs ~4–9% of single-POST requests/s (`loadtest/wrk/ingest-vs-nginx.sh`).
public struct DroppedGroups: Sendable {
    /// The groups, oldest first; the last reference to them is dropped by ``release()``.
    private var groups: [[BrokerEvent]]

    /// The sequence number of the first event: for spreading releases over several threads.
    public let firstSeq: UInt64

    /// Groups of at least `minimumCount` events out of `dropped`; nil if none is that large.
    init?(_ dropped: [[BrokerEvent]], minimumCount: Int) {
        let large = dropped.filter { $0.count >= minimumCount }
        guard let seq = large.first?.first?.seq else { return nil }
        groups = large
        firstSeq = seq
    }

    /// The number of events of each group (for tests).
    var eventCounts: [Int] { groups.map(\.count) }

    /// Ends the groups' lifetime here: call it as the last use of the value, on the thread that
    /// should free them.
    public consuming func release() {
        groups = []
    }
}
