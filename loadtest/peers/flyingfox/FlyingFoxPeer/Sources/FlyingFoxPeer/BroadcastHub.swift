import FlyingFox

/// Keeps the outbound message stream of every connected WebSocket client and fans broadcasts out to them.
///
/// FlyingFox models a WebSocket as a pair of `AsyncStream<WSMessage>`: the handler receives the
/// client's messages and returns the stream the server sends. Broadcasting therefore means keeping
/// each returned stream's continuation here and yielding to all of them. Streams are unbounded, so
/// every client receives every message (the broadcast contract).
actor BroadcastHub {
    /// The outbound continuation of every open connection, keyed by a number unique for the process.
    private var outbound: [Int: AsyncStream<WSMessage>.Continuation] = [:]
    /// The key the next connection receives.
    private var nextIdentifier = 0

    /// Registers a connection and returns its key and the stream the server will send to it.
    func add() -> (identifier: Int, messages: AsyncStream<WSMessage>) {
        let (stream, continuation) = AsyncStream<WSMessage>.makeStream()
        let identifier = self.nextIdentifier
        self.nextIdentifier &+= 1
        self.outbound[identifier] = continuation
        return (identifier, stream)
    }

    /// Removes a connection and ends its outbound stream.
    func remove(_ identifier: Int) {
        self.outbound.removeValue(forKey: identifier)?.finish()
    }

    /// Sends `text` to every connected client, the sender included.
    func broadcast(_ text: String) {
        let message = WSMessage.text(text)
        for continuation in self.outbound.values {
            continuation.yield(message)
        }
    }
}
