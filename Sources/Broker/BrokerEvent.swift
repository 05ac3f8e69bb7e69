import Monitor

/// One event of the stream. It keeps its domain value and is encoded to JSON only where it is
/// needed — once per batch by the fan-out, for topics somebody subscribes to, or for a resuming
/// client — so ingest does not pay for JSON nobody reads (at 1M tx/s most `transaction` events
/// have no subscriber).
public struct BrokerEvent: Sendable {
    /// Global sequence number; 0 for ephemeral events (`stats`), which are never replayed.
    public let seq: UInt64
    /// The topic subscribers choose it by: `alerts`, `rankings`, `transactions`, `stats`, or a
    /// custom topic named by `/api/publish`.
    public let topic: String
    /// What happened.
    public let body: Body

    /// The event's content.
    public enum Body: Sendable {
        /// The transaction at `index` of the batch it was accepted with. The event shares the
        /// batch's storage instead of holding a copy: one retain of the batch (hot in the broker's
        /// cache) per event, instead of a retain of each transaction's heap-allocated `id` (made
        /// by the event loop, so a cache miss on the broker) and a release when the history
        /// drops it. Per-transaction retains and releases are ~9% of the server's CPU under
        /// NDJSON ingest (`loadtest/run.sh ingest --batch 1000`).
        case transaction(batch: [Transaction], index: Int)
        case alert(Alert)
        case rankings([RankingEntry])
        case message(data: [UInt8])
        /// Already encoded (stats).
        case encoded([UInt8])
    }

    public init(seq: UInt64, topic: String, body: Body) {
        self.seq = seq
        self.topic = topic
        self.body = body
    }

    /// The transaction of a `transaction` event.
    public var transaction: Transaction? {
        if case .transaction(let batch, let index) = body { return batch[index] }
        return nil
    }

    /// Encodes the complete JSON text of the message (what a WebSocket text frame or an SSE
    /// `data:` holds). Each call writes the JSON anew: callers encode an event once and share the
    /// bytes (the fan-out per batch, a resume per replayed event; DESIGN.md §5).
    public func encodeJSON() -> [UInt8] {
        #if DEBUG
            Self.encodeCounter?.increment()
        #endif
        return switch body {
        case .transaction(let batch, let index): StreamEncoding.transaction(batch[index], seq: seq)
        case .alert(let alert): StreamEncoding.alert(alert, seq: seq)
        case .rankings(let top): StreamEncoding.rankings(top, seq: seq)
        case .message(let data): StreamEncoding.message(topic: topic, data: data, seq: seq)
        case .encoded(let bytes): bytes
        }
    }

    #if DEBUG
        /// Test hook: counts ``encodeJSON()`` calls made by the task that set it (debug builds only).
        @TaskLocal public static var encodeCounter: EncodeCounter?
    #endif
}

#if DEBUG
    /// Counts event encodes for a test (see ``BrokerEvent/encodeCounter``).
    public final class EncodeCounter: @unchecked Sendable {
        /// Encodes counted so far; written only by the task that installed the counter.
        public private(set) var count = 0
        public init() {}
        func increment() { count += 1 }
    }
#endif

extension BrokerEvent {
    /// Bytes this event keeps alive while the history holds it: the event itself plus the heap
    /// storage of its body. The history holds domain values, not JSON (the fan-out encodes a
    /// batch once and its subscribers' queues own those bytes), so this is what resume history
    /// really pins; a `message` event's `data` dominates (up to 60 KiB each). A `transaction`
    /// event counts its own transaction in the shared batch, so a batch is counted once in all.
    /// Every term is a stored length: no string or array is walked. The broker sums these as it
    /// makes the events (see `MessageBroker.applyTransactions`).
    var retainedBytes: Int {
        let own = MemoryLayout<BrokerEvent>.stride
        switch body {
        case .transaction(let batch, let index):
            return Self.retainedBytes(ofTransactionEventFor: batch[index])
        case .alert(let alert):
            // The alert itself is stored inline in the event (`own`); its strings are not.
            return own + Self.heapBytes(alert.id.utf8.count) + Self.heapBytes(alert.transactionId?.utf8.count ?? 0)
                + Self.heapBytes(alert.investorId.utf8.count)
                + Self.heapBytes(alert.syndicateId.utf8.count)
        case .rankings(let top):
            var total = own + Self.arrayBytes(top.count * MemoryLayout<RankingEntry>.stride)
            for index in top.indices { total += Self.heapBytes(top[index].investorId.utf8.count) }
            return total
        case .message(let data):
            return own + Self.arrayBytes(data.count) + Self.heapBytes(topic.utf8.count)
        case .encoded(let bytes):
            return own + Self.arrayBytes(bytes.count)
        }
    }

    /// The retained bytes of the `transaction` event for one transaction of a batch, borrowed in
    /// place: copying it out would retain and release its three strings, which is what
    /// `Body.transaction` exists to avoid.
    @inline(__always)
    static func retainedBytes(ofTransactionEventFor transaction: borrowing Transaction) -> Int {
        MemoryLayout<BrokerEvent>.stride + MemoryLayout<Transaction>.stride + heapBytes(transaction.id?.utf8.count ?? 0)
            + heapBytes(transaction.investorId.utf8.count)
            + heapBytes(transaction.syndicateId.utf8.count)
    }

    /// A native string's heap allocation, from its UTF-8 length: none for up to 15 bytes (stored
    /// inline), else a 32-byte header, the bytes and a terminating NUL, in 16-byte malloc steps.
    @inline(__always)
    private static func heapBytes(_ utf8Count: Int) -> Int {
        utf8Count > 15 ? (32 + utf8Count + 1 + 15) & ~15 : 0
    }

    /// An array's heap allocation: a 32-byte header and `payload` bytes, in 16-byte malloc steps.
    private static func arrayBytes(_ payload: Int) -> Int {
        (32 + payload + 15) & ~15
    }
}

/// Well-known topic names.
public enum Topic {
    public static let alerts = "alerts"
    public static let rankings = "rankings"
    public static let transactions = "transactions"
    public static let stats = "stats"
    /// Topics a bare connection gets.
    public static let defaults: Set<String> = [alerts, rankings]
    /// Topics `/api/publish` may not use.
    public static let reserved: Set<String> = [alerts, rankings, transactions, stats]

    /// Whether `name` may be used as a custom topic: 1–64 bytes of `A-Z a-z 0-9 . _ -`.
    public static func isValidCustom(_ name: String) -> Bool {
        let bytes = name.utf8
        guard (1...64).contains(bytes.count), !reserved.contains(name) else { return false }
        return bytes.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
    }
}

/// Receives each group's events; the server wires one sink per event loop.
public protocol BrokerSink: Sendable {
    /// Called on the broker's thread, once per commit group (or stats tick), in sequence order.
    func deliver(_ events: [BrokerEvent])
}
