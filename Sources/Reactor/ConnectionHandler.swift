/// The protocol logic behind one connection, driven by its event loop's thread.
///
/// A handler is confined to the loop that owns its connection: every call arrives on that thread,
/// so handlers need no locks. A handler may replace itself (`connection.handler = other`), for
/// example after an HTTP Upgrade; the loop then offers the remaining bytes to the new handler.
public protocol ConnectionHandler: AnyObject {
    /// The connection was accepted and registered with its loop.
    func connectionOpened(_ connection: Connection)

    /// Bytes arrived. Returns how many were consumed; the rest are kept and offered again,
    /// with more data appended, on the next read.
    ///
    /// At most 64 KiB are offered per call (more only when nothing of that could be consumed).
    /// While the connection's queued output is over the group's soft bound the loop neither
    /// reads nor calls this, until the queue drains below half of it; a handler that answers
    /// several requests per call should stop consuming once `isOverOutboundSoftLimit` is true.
    func connectionReceived(_ connection: Connection, _ bytes: UnsafeRawBufferPointer) -> Int

    /// The peer closed its sending side (read returned 0). Called once; input is not polled
    /// afterwards, but kept input is still offered when the handler calls `resumeProcessing`.
    func connectionReadEnded(_ connection: Connection)

    /// The deadline set with `Connection.setDeadline` passed.
    func connectionDeadlinePassed(_ connection: Connection, now: Int64)

    /// The connection is closed and removed from its loop; no further calls follow.
    func connectionClosed(_ connection: Connection)
}

extension ConnectionHandler {
    public func connectionOpened(_ connection: Connection) {}

    public func connectionReadEnded(_ connection: Connection) {
        connection.close()
    }

    public func connectionDeadlinePassed(_ connection: Connection, now: Int64) {
        connection.close(abort: true)
    }

    public func connectionClosed(_ connection: Connection) {}
}
