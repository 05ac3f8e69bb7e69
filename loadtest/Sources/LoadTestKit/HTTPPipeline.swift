/// The requests one HTTP/1.1 connection has in flight, oldest first.
///
/// HTTP/1.1 answers pipelined requests in the order they were sent (RFC 9112 §9.3.2), so a
/// response always belongs to the oldest request still waiting: matching is a FIFO pop, and a
/// response that arrives with nothing in flight is unsolicited.
public struct HTTPPipeline: Sendable {
    /// One request awaiting its response.
    public struct Entry: Equatable, Sendable {
        /// When the request was written (monotonic ns).
        public var sentAt: UInt64
        /// The owner's label for the request (e.g. its first counter).
        public var tag: Int
    }

    /// Most requests in flight at once (1 = no pipelining).
    public let depth: Int
    /// Entries in flight; `head` is the index of the oldest.
    private var entries: [Entry] = []
    private var head = 0

    /// Creates an empty pipeline of `depth` (at least 1).
    public init(depth: Int) {
        self.depth = max(depth, 1)
        entries.reserveCapacity(self.depth)
    }

    /// Requests in flight.
    public var count: Int { entries.count - head }

    /// Whether no request is in flight.
    public var isEmpty: Bool { count == 0 }

    /// Whether one more request may be sent.
    public var hasRoom: Bool { count < depth }

    /// Records a request just sent; returns false (and records nothing) when the pipeline is full.
    @discardableResult
    public mutating func push(sentAt: UInt64, tag: Int) -> Bool {
        guard hasRoom else { return false }
        entries.append(Entry(sentAt: sentAt, tag: tag))
        return true
    }

    /// Takes the oldest request, the one the response just received answers; nil if none is in flight.
    public mutating func popOldest() -> Entry? {
        guard head < entries.count else { return nil }
        let entry = entries[head]
        head += 1
        if head == entries.count {
            // Empty again: reuse the storage from its start (the common case at depth 1).
            entries.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= depth {
            entries.removeFirst(head)
            head = 0
        }
        return entry
    }

    /// Takes every request still in flight, oldest first (the connection is gone).
    public mutating func removeAll() -> [Entry] {
        let remaining = Array(entries[head...])
        entries.removeAll(keepingCapacity: true)
        head = 0
        return remaining
    }
}
