#if canImport(Glibc)
import Glibc
#endif
import FlyingFox
import FlyingSocks

// Broadcast contract: ws://127.0.0.1:PORT/broadcast; every text message from any client goes to
// every connected client (the sender too), unchanged, as text. FlyingFox implements no WebSocket
// extension, so a permessage-deflate offer is ignored. GET /healthz answers 200.
//
// FlyingFox installs no signal handlers; SIGTERM and SIGINT keep their default action, which ends
// the process at once (exit by signal).

guard let port = PortArgument.parse(Array(CommandLine.arguments.dropFirst())) else {
    writeLine("usage: FlyingFoxPeer PORT | --port PORT", to: 2)
    exit(64)
}

let hub = BroadcastHub()
// `inet(ip4:port:)` throws only for an unparsable address; this one is a literal.
let server = HTTPServer(address: try .inet(ip4: "127.0.0.1", port: UInt16(port)), logger: .disabled)
await server.appendRoute("GET /healthz") { _ in HTTPResponse(statusCode: .ok) }
await server.appendRoute("GET /broadcast", to: .webSocket(BroadcastMessageHandler(hub: hub)))

do {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await server.run() }
        try await server.waitUntilListening()
        writeLine("listening on \(port)")
        try await group.waitForAll()
    }
} catch {
    writeLine("FlyingFoxPeer: \(error)", to: 2)
    exit(1)
}
