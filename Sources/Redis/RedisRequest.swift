/// A command (or a batch of commands) on its way to Redis, with where its reply goes.
struct RedisRequest: Sendable {
    /// The encoded command(s), ready to write.
    let bytes: [UInt8]
    /// Replies expected (1, or the batch's size).
    let replyCount: Int
    /// Monotonic milliseconds by which the last reply must have arrived.
    let deadline: Int64
    /// Called once, on the client's loop thread.
    let completion: RedisCompletion
}

/// A request as `send` queues it: its bytes are the next `byteCount` of the shared buffer.
struct SubmittedRequest: Sendable {
    let byteCount: Int
    let replyCount: Int
    let deadline: Int64
    let completion: RedisCompletion
}

/// Where a request's reply (or failure) goes.
enum RedisCompletion: Sendable {
    case single(@Sendable (Result<RESPValue, RedisError>) -> Void)
    case batch(@Sendable (Result<[RESPValue], RedisError>) -> Void)

    /// Delivers a failure.
    func fail(_ error: RedisError) {
        switch self {
        case .single(let body): body(.failure(error))
        case .batch(let body): body(.failure(error))
        }
    }

    /// Delivers the one reply of a single command.
    func succeed(_ reply: RESPValue) {
        switch self {
        case .single(let body): body(.success(reply))
        case .batch(let body): body(.success([reply]))
        }
    }

    /// Delivers the replies (`replies` holds exactly the expected count).
    func succeed(_ replies: [RESPValue]) {
        switch self {
        case .single(let body): body(.success(replies.first ?? .bulkString(nil)))
        case .batch(let body): body(.success(replies))
        }
    }
}

/// A FIFO queue on an array with a moving head (amortised O(1) at both ends, no dependency).
struct FIFO<Element> {
    private var storage: [Element] = []
    private var head = 0

    var isEmpty: Bool { head == storage.count }
    var count: Int { storage.count - head }
    var first: Element? { isEmpty ? nil : storage[head] }

    mutating func append(_ element: Element) {
        storage.append(element)
    }

    mutating func popFirst() -> Element? {
        guard head < storage.count else { return nil }
        let element = storage[head]
        head += 1
        if head == storage.count {
            storage.removeAll(keepingCapacity: storage.count <= 4_096)
            head = 0
        } else if head >= 1_024 && head * 2 >= storage.count {
            storage.removeFirst(head)
            head = 0
        }
        return element
    }

    /// Edits the first element in place.
    mutating func withFirst<Result>(_ body: (inout Element) -> Result) -> Result? {
        guard head < storage.count else { return nil }
        return body(&storage[head])
    }

    /// Removes and returns every element, in order.
    mutating func removeAll() -> [Element] {
        let elements = Array(storage[head...])
        storage = []
        head = 0
        return elements
    }

    /// Every element, in order (for scans).
    var elements: ArraySlice<Element> { storage[head...] }
}
