import Cluster
import Glibc
import Logging
import Synchronization

/// Logs cluster mode's connection events (`--redis`): a lost connection at most once per
/// ``quietSeconds`` (a Redis restart makes the reading retry every 2 s), its restoration, and a
/// gap in the stream as critical, after which the process exits 1 (a restart loads the snapshot).
final class ClusterEventLog: Sendable {
    /// Seconds between two "connection lost" lines.
    static let quietSeconds: Int64 = 30
    private let logger: Logger
    /// The monotonic second of the last "lost" line, the losses not logged since, and whether
    /// the latest loss was logged (its restoration is logged only then).
    private let state = Mutex<(lastLost: Int64?, suppressed: Int, logged: Bool)>((nil, 0, false))

    init(logger: Logger) {
        self.logger = logger
    }

    /// Handles one event (on the stream reading's thread).
    func report(_ event: RedisSharedLog.Event) {
        switch event {
        case .connectionLost(let reason):
            let now = Self.monotonicSeconds()
            let suppressed: Int? = state.withLock { state in
                if let last = state.lastLost, now - last < Self.quietSeconds {
                    state.suppressed += 1
                    state.logged = false
                    return nil
                }
                defer { state = (now, 0, true) }
                return state.suppressed
            }
            guard let suppressed else { return }
            logger.error(
                "Redis connection lost: \(reason); retrying, writes get 503 meanwhile",
                metadata: ["reason": "\(reason)", "suppressed": "\(suppressed)"])
        case .connectionRestored:
            guard state.withLock({ $0.logged }) else { return }
            logger.notice("Redis connection restored; reading the stream on from the last applied entry")
        case .gap(let message):
            logger.critical(
                "the shared log has a gap this instance cannot read across: \(message); exiting (a restart starts from the snapshot)")
            _exit(1)
        }
    }

    private static func monotonicSeconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec)
    }
}
