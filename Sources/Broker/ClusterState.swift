import Monitor
import Synchronization

/// What a cluster-mode broker shares with other threads: the log, the codec, the running reading
/// and whether it has caught up (read by `/readyz` without a hop to the broker).
final class ClusterLink: Sendable {
    let log: any SharedLog
    let codec: SharedLogCodec
    /// Where reading starts (after a snapshot's position, or from the start).
    let startPosition: SharedLogPosition?
    let caughtUp = Atomic<Bool>(false)
    let reading = Mutex<(any SharedLogReading)?>(nil)
    let stopped = Atomic<Bool>(false)
    /// Called on the broker's thread once caught up (see `MessageBroker.startReading`).
    let onCaughtUp = Mutex<(@Sendable () -> Void)?>(nil)
    /// Set when the log evaluates the spike rule (`--spike-store redis`): every group carries it
    /// and the monitor applies the entries' decisions instead of evaluating the rule.
    let spikeRule: SharedLogSpikeRule?

    init(log: any SharedLog, codec: SharedLogCodec, startPosition: SharedLogPosition?, spikeRule: SharedLogSpikeRule? = nil) {
        self.log = log
        self.codec = codec
        self.startPosition = startPosition
        self.spikeRule = spikeRule
    }
}

/// The broker's cluster-mode bookkeeping (on the broker's thread).
struct ClusterState {
    /// Writes gathered while an append is in flight: the next group.
    var gathered: [BrokerCommand] = []
    /// The group being appended, until its completion is handled.
    var inFlight: AppendedGroup?
    var appendInFlight: Bool { inFlight != nil }
    /// This broker's last appended entry, and when its append completed, until it is applied
    /// here: the next append waits for it (at most `BrokerConfiguration.ownEntryWait`), so that the
    /// group's position covers it and the log need not check its ids again (an entry after the
    /// position costs the ingest script ~1 µs of Redis's time per transaction, against ~0.1 µs
    /// with none; loadtest/redis/ingest_script_bench.py --after-entries 1 and 0). Only a speed-up:
    /// an append after the wait is decided the same, by the log.
    var ownEntryPending: (position: SharedLogPosition, since: ContinuousClock.Instant)?

    /// Set by shutdown: later writes are answered `unavailable`, nothing more is appended.
    var stopping = false
    /// Requests of this broker's appended entries, answered once the entry is applied here.
    var awaiting: [SharedLogPosition: [ClusterWaiting]] = [:]
    /// What the entries applied while an append was in flight gave each request: the append's
    /// completion may arrive after its own entry was applied.
    var recentlyApplied: [SharedLogPosition: [AppliedRequest]] = [:]
    /// The last entry applied.
    var appliedPosition: SharedLogPosition?
    var statistics = ClusterStatistics()
}

/// Cluster-mode counters (for `/metrics` and logs).
public struct ClusterStatistics: Sendable, Equatable {
    /// Append calls completed, failed ones included.
    public var appends = 0
    /// Append calls that failed (their requests were answered 503).
    public var appendFailures = 0
    /// Log entries applied, this instance's and others'.
    public var appliedEntries = 0
    /// Entries whose payload or skip list could not be decoded: skipped (on every instance alike).
    public var undecodableEntries = 0

    public init(appends: Int = 0, appendFailures: Int = 0, appliedEntries: Int = 0, undecodableEntries: Int = 0) {
        self.appends = appends
        self.appendFailures = appendFailures
        self.appliedEntries = appliedEntries
        self.undecodableEntries = undecodableEntries
    }
}

/// A request appended to the log, waiting for its entry to be applied.
struct ClusterWaiting {
    /// Its index among the entry's requests.
    let request: Int
    let reply: Decided.Reply
    /// Duplicates the log skipped (from the append's outcome).
    let duplicates: Int
}

/// What applying one request of an entry gave.
enum AppliedRequest {
    /// Refused by the log (a conflict), or not applied (a damaged entry).
    case skipped
    case transactions(accepted: Int, first: UInt64?, last: UInt64?)
    case message(seq: UInt64)
}

/// A cluster-mode request being appended: how to answer it.
struct ClusterPending {
    let reply: Decided.Reply
    /// The request's transactions (for conflict details); empty for a message.
    let transactions: [Transaction]
    let isMessage: Bool
}

/// Work from the log for the broker's thread.
enum ClusterCommand: Sendable {
    /// An append completed.
    case appended(Result<SharedLogAppendResult, SharedLogError>, AppendedGroup)
    /// An entry was read; `entries` is nil when its payload could not be decoded.
    case entry(
        SharedLogPosition, entries: [JournalEntry]?, skip: SharedLogSkipSet, spikes: SharedLogSpikeDecisions?, records: [UInt8])
    case caughtUp
    /// The broker is shutting down: answer everything waiting with `unavailable`.
    case stop
}

/// The requests of one append, carried to its completion.
struct AppendedGroup: Sendable {
    let pending: [ClusterPending]
}
