/// Keeps one outbound queue per connected WebSocket client and fans every broadcast out to all of them.
///
/// This is the connection-manager actor pattern of hummingbird-websocket's chat example: each
/// connection's handler drains its own queue into its `WebSocketOutboundWriter`, so a broadcast
/// never writes to a socket from a task other than the one that owns it. Queues are unbounded,
/// so every client receives every message (the broadcast contract) at the cost of memory for a
/// client that reads slowly.
actor ConnectionManager {
    /// The outbound queue of every open connection, keyed by a number unique for the process.
    private var queues: [Int: AsyncStream<String>.Continuation] = [:]
    /// The key the next connection receives.
    private var nextIdentifier = 0

    /// Registers a connection and returns its key and the queue its handler must drain.
    func add() -> (identifier: Int, queue: AsyncStream<String>) {
        let (stream, continuation) = AsyncStream<String>.makeStream()
        let identifier = self.nextIdentifier
        self.nextIdentifier &+= 1
        self.queues[identifier] = continuation
        return (identifier, stream)
    }

    /// Removes a connection and ends its queue, which lets its writer loop finish.
    func remove(_ identifier: Int) {
        self.queues.removeValue(forKey: identifier)?.finish()
    }

    /// Queues `text` for every connected client, the sender included.
    func broadcast(_ text: String) {
        for continuation in self.queues.values {
            continuation.yield(text)
        }
    }
}
