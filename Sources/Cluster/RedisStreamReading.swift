import Basics
import Broker
import Redis
import Synchronization

/// One reading of the stream (``RedisSharedLog/read(after:deliver:)``): a thread of its own that
/// loops on `XREAD COUNT 1024 BLOCK <ms> STREAMS <key> <last id>` on a connection of its own
/// (fewer than 1024 while the entries are large, see `count`).
///
/// `XINFO STREAM` first (and after every error): its `last-entry` is where ``SharedLogDelivery/caughtUp``
/// is due (at once for an empty stream; an empty `XREAD` reply also means caught up), and its
/// `max-deleted-entry-id` above our position means entries we have not read were trimmed away
/// (a gap): the reading reports ``RedisSharedLog/Event/gap(_:)`` and stops. Errors (connection
/// lost, timeouts, a Redis restart) are retried from the last delivered id after a backoff of
/// 50 ms doubling to 2 s, so nothing is skipped or delivered twice.
final class RedisStreamReading: SharedLogReading {
    private let client: RedisClient
    /// Set by ``cancel()``; held while delivering, so no delivery runs once `cancel` returns,
    /// and waited on by the backoff sleep, so a cancel wakes it.
    private let cancelled = ConditionLock(false)
    private let thread = Mutex<NamedThread?>(nil)

    init(
        configuration: RedisSharedLog.Configuration, after position: SharedLogPosition?,
        deliver: @escaping @Sendable (SharedLogDelivery) -> Void, report: @escaping @Sendable (RedisSharedLog.Event) -> Void,
        finished: @escaping @Sendable (_ disconnected: Bool) -> Void
    ) {
        var clientConfiguration = configuration.client
        clientConfiguration.commandTimeout = RedisClient.timeout(blockingFor: configuration.blockMilliseconds)
        // A reading without a client reports the failure as a lost connection and retries.
        let client = (try? RedisClient(configuration: clientConfiguration)) ?? Self.placeholder(clientConfiguration)
        self.client = client
        let loop = Loop(
            client: client, key: configuration.streamKey, blockMilliseconds: configuration.blockMilliseconds,
            position: position, deliver: deliver, report: report)
        let started = try? NamedThread(name: "redis-read") { [cancelled] in
            let disconnected = loop.run(cancelled: cancelled)
            finished(disconnected)
        }
        thread.withLock { $0 = started }
        if started == nil { report(.gap("cannot start the stream reading thread")) }
    }

    func cancel() {
        cancelled.withLock { $0 = true }
        cancelled.broadcast()
        client.close()
        let running = thread.withLock { thread in
            defer { thread = nil }
            return thread
        }
        if let running, !running.isCurrent { running.join() }
    }

    private static func placeholder(_ configuration: RedisClient.Configuration) -> RedisClient {
        // RedisClient's init only fails when its loop cannot start; one more try, then give up.
        guard let client = try? RedisClient(configuration: configuration) else {
            preconditionFailure("cannot start a Redis client event loop")
        }
        return client
    }

    /// The reading's loop state, on its thread.
    private final class Loop: @unchecked Sendable {
        let client: RedisClient
        let key: String
        let blockMilliseconds: Int64
        var position: SharedLogPosition?
        let deliver: @Sendable (SharedLogDelivery) -> Void
        let report: @Sendable (RedisSharedLog.Event) -> Void
        var caughtUp = false
        /// Where caught up is due (the stream's last entry at start).
        var target: SharedLogPosition?
        var needsCheck = true
        /// Entries per `XREAD`: 1024, halved (down to 8) while replies exceed 16 MiB of payload, so
        /// catching up over NDJSON-sized entries (up to ~1 MB each) does not hold a 1 GB reply.
        var count = 1024
        var failures = 0
        var disconnected = false

        init(
            client: RedisClient, key: String, blockMilliseconds: Int64, position: SharedLogPosition?,
            deliver: @escaping @Sendable (SharedLogDelivery) -> Void, report: @escaping @Sendable (RedisSharedLog.Event) -> Void
        ) {
            self.client = client
            self.key = key
            self.blockMilliseconds = blockMilliseconds
            self.position = position
            self.deliver = deliver
            self.report = report
        }

        /// Reads until cancelled or a gap; returns whether it ended disconnected.
        func run(cancelled: ConditionLock<Bool>) -> Bool {
            func isCancelled() -> Bool { cancelled.withLock { $0 } }
            /// Delivers unless cancelled; false once cancelled.
            func hand(_ delivery: SharedLogDelivery) -> Bool {
                cancelled.withLock { cancelled in
                    guard !cancelled else { return false }
                    deliver(delivery)
                    return true
                }
            }
            func fail(_ reason: String) {
                needsCheck = true
                // A cancel closes the client under a pending command: not a lost connection.
                guard !isCancelled() else { return }
                if !disconnected {
                    disconnected = true
                    report(.connectionLost(reason))
                }
                let delay = min(50 << min(failures, 6), 2_000)
                failures += 1
                cancelled.withLock(when: { $0 }, timeoutMilliseconds: delay) { _ in }
            }
            func succeeded() {
                failures = 0
                if disconnected {
                    disconnected = false
                    report(.connectionRestored)
                }
            }
            while !isCancelled() {
                if needsCheck {
                    let reply = client.sendAndWait(RedisClient.command("XINFO", "STREAM", key))
                    guard case .success(let value) = reply, let info = StreamReply.info(value) else {
                        fail(Self.describe(reply, "XINFO STREAM"))
                        continue
                    }
                    if let removed = info.removesEntries(after: position) {
                        report(
                            .gap(
                                "entries up to \(removed) were trimmed from \(key) but this instance has read only up to "
                                    + "\(position.map(String.init(describing:)) ?? "the start")"))
                        return disconnected
                    }
                    if !caughtUp { target = info.lastEntry }
                    needsCheck = false
                    succeeded()
                }
                if !caughtUp, target.map({ last in position.map { $0 >= last } ?? false }) ?? true {
                    caughtUp = true
                    guard hand(.caughtUp) else { break }
                }
                let after = position.map(String.init(describing:)) ?? "0-0"
                let reply = client.sendAndWait(
                    RedisClient.command("XREAD", "COUNT", String(count), "BLOCK", String(blockMilliseconds), "STREAMS", key, after))
                guard case .success(let value) = reply, !value.isError, let entries = StreamReply.entries(value) else {
                    fail(Self.describe(reply, "XREAD"))
                    continue
                }
                succeeded()
                if entries.isEmpty, !caughtUp { target = nil }
                let bytes = entries.reduce(0) { $0 + $1.payload.count }
                count = bytes > 16 << 20 ? max(count / 2, 8) : min(count * 2, 1024)
                for entry in entries {
                    guard hand(.entry(entry)) else { return disconnected }
                    position = entry.position
                }
            }
            return disconnected
        }

        static func describe(_ reply: Result<RESPValue, RedisError>, _ command: String) -> String {
            switch reply {
            case .success(let value): "\(command): \(value.description.prefix(200))"
            case .failure(let error): "\(command): \(error)"
            }
        }
    }
}
