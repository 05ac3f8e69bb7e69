import Cluster

extension SyndicastServer {
    /// Whether the server runs in cluster mode (`--redis`).
    public var isClustered: Bool { cluster != nil }

    /// The Redis URL without password, or nil for a single node.
    public var clusterURL: String? { cluster?.url }

    /// Calls `report` (on the stream reading's thread) when the connection to Redis is lost or
    /// restored, and when the stream has a gap this instance cannot read across (the caller logs
    /// it as critical and exits: a restart starts from the snapshot). Call before ``start(replayFailed:)``.
    public func reportClusterEvents(_ report: @escaping @Sendable (RedisSharedLog.Event) -> Void) {
        cluster?.log.onEvent(report)
    }

    /// Calls `report` with what the snapshot store has to say (the load at start, each stored
    /// snapshot at debug level, failures), including what it said before this call.
    public func reportSnapshotEvents(_ report: @escaping ClusterSnapshotStore.Log) {
        cluster?.reportSnapshotEvents(report)
    }
}
