#if canImport(Glibc)
import Glibc
#endif
import Hummingbird
import HummingbirdWebSocket
import Logging

// Broadcast contract: ws://127.0.0.1:PORT/broadcast; every text message from any client goes to
// every connected client (the sender too), unchanged, as text. No permessage-deflate: the
// WebSocket configuration lists no extensions, so the offer is ignored. GET /healthz answers 200.

guard let port = PortArgument.parse(Array(CommandLine.arguments.dropFirst())) else {
    writeLine("usage: HummingbirdPeer PORT | --port PORT", to: 2)
    exit(64)
}

/// Largest message accepted from a client (and largest frame), 1 MiB.
let maximumMessageSize = 1 << 20

var logger = Logger(label: "hummingbird-peer")
logger.logLevel = .error

let connections = ConnectionManager()
let router = Router(context: BasicWebSocketRequestContext.self)
router.get("healthz") { _, _ -> HTTPResponse.Status in .ok }
router.ws("broadcast") { inbound, outbound, _ in
    let (identifier, queue) = await connections.add()
    await withTaskGroup(of: Void.self) { group in
        // Writer: drain this connection's queue into its socket until the queue ends or a write
        // fails (the socket closed; the reader below then ends too).
        group.addTask {
            for await text in queue {
                do {
                    try await outbound.write(.text(text))
                } catch {
                    break
                }
            }
        }
        // Reader: broadcast each whole text message; binary messages are not part of the contract.
        do {
            for try await message in inbound.messages(maxSize: maximumMessageSize) {
                if case .text(let text) = message {
                    await connections.broadcast(text)
                }
            }
        } catch {
            // A protocol error or a reset ends this connection only.
        }
        await connections.remove(identifier)
        await group.waitForAll()
    }
}

let app = Application(
    router: router,
    server: .http1WebSocketUpgrade(
        webSocketRouter: router,
        configuration: .init(ws: .init(maxFrameSize: maximumMessageSize, extensions: []))
    ),
    // Backlog 4096 (Hummingbird's default is 256) so a connection storm measures the framework,
    // not SYN retries; the same as Syndicast's and nginx's listeners.
    configuration: .init(address: .hostname("127.0.0.1", port: port), backlog: 4096),
    onServerRunning: { channel in
        writeLine("listening on \(channel.localAddress?.port ?? port)")
    },
    logger: logger
)
// runService installs the SIGTERM and SIGINT handlers (graceful shutdown).
do {
    try await app.runService()
} catch {
    writeLine("HummingbirdPeer: \(error)", to: 2)
    exit(1)
}
