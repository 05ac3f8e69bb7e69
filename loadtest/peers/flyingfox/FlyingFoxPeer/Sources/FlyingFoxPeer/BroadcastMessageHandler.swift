import FlyingFox

/// FlyingFox's per-connection WebSocket handler: relays each text message from the client to the hub.
///
/// `makeMessages(for:)` must return the outbound stream at once, so reading the client runs in an
/// unstructured task that lives as long as the client's stream; when it ends the connection is
/// removed and its outbound stream finishes, which closes the socket.
struct BroadcastMessageHandler: WSMessageHandler {
    /// The shared registry of connections.
    let hub: BroadcastHub

    func makeMessages(for client: AsyncStream<WSMessage>) async throws -> AsyncStream<WSMessage> {
        let (identifier, outbound) = await self.hub.add()
        let hub = self.hub
        Task {
            for await message in client {
                // Binary messages are not part of the broadcast contract.
                if case .text(let text) = message {
                    await hub.broadcast(text)
                }
            }
            await hub.remove(identifier)
        }
        return outbound
    }
}
