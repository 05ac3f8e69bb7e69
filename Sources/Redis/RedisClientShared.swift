import Synchronization

/// What the client's public side (any thread) and its loop-confined driver share.
final class RedisClientShared: Sendable {
    private struct Submissions {
        /// Every queued command's bytes, back to back, in submission order.
        var bytes: [UInt8] = []
        var requests: [SubmittedRequest] = []
        /// Whether a drain is already scheduled on the loop.
        var armed = false
        var closed = false
    }

    private let submissions = Mutex(Submissions())
    private let hook = Mutex<(@Sendable () -> Void)?>(nil)
    private let lastError = Mutex<String?>(nil)
    /// The loop thread's `pthread_t` (0 until the driver started).
    let loopThread = Atomic<UInt>(0)
    let isConnected = Atomic<Bool>(false)
    /// Handshakes completed (the first connect and every reconnect).
    let connections = Atomic<Int>(0)

    /// Encodes a request into the shared buffer (one buffer for all: no allocation per
    /// command); returns whether the caller must schedule a drain, or nil if closed.
    func submit(
        replies: Int, deadline: Int64, completion: RedisCompletion, encode: (inout [UInt8]) -> Void
    ) -> Bool? {
        submissions.withLock { state -> Bool? in
            guard !state.closed else { return nil }
            let start = state.bytes.count
            encode(&state.bytes)
            let request = SubmittedRequest(
                byteCount: state.bytes.count - start, replyCount: replies, deadline: deadline, completion: completion)
            state.requests.append(request)
            if state.armed { return false }
            state.armed = true
            return true
        }
    }

    /// Takes every queued request and their bytes (on the loop).
    func takeSubmissions() -> (bytes: [UInt8], requests: [SubmittedRequest]) {
        submissions.withLock { state in
            let taken = (state.bytes, state.requests)
            state.bytes = []
            state.bytes.reserveCapacity(min(taken.0.count, 1 << 16))
            state.requests = []
            state.armed = false
            return taken
        }
    }

    /// Refuses further submissions; returns whether this call closed it.
    func markClosed() -> Bool {
        submissions.withLock { state in
            defer { state.closed = true }
            return !state.closed
        }
    }

    func setOnConnected(_ body: (@Sendable () -> Void)?) {
        hook.withLock { $0 = body }
    }

    func onConnected() -> (@Sendable () -> Void)? {
        hook.withLock { $0 }
    }

    func setLastConnectError(_ message: String) {
        lastError.withLock { $0 = message }
    }

    var lastConnectError: String? { lastError.withLock { $0 } }

    func connected(_ value: Bool) {
        isConnected.store(value, ordering: .releasing)
        if value { connections.add(1, ordering: .relaxed) }
    }
}
