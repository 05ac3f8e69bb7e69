import Glibc
import HTTP1
import Reactor
import WebSocket

/// What every session needs and nobody mutates: configuration, routes, static files.
final class ServerContext: Sendable {
    let configuration: ServerConfiguration
    let router: Router<Route>
    let staticFiles: StaticFiles
    let streamOptions: WebSocketOptions
    let echoOptions: WebSocketOptions
    let parserLimits = HTTPParserLimits()
    /// Identifies this journal's sequence space; clients resume only within one epoch.
    let epoch: String
    let shutdown: ShutdownFlag

    init(configuration: ServerConfiguration, shutdown: ShutdownFlag) {
        self.configuration = configuration
        self.router = Route.table(echo: configuration.echo)
        self.staticFiles = StaticFiles(root: configuration.staticDirectory)
        self.streamOptions = WebSocketOptions(maxFramePayload: 64 * 1024, maxMessageSize: 64 * 1024)
        self.echoOptions = .echo
        self.epoch = Self.makeEpoch()
        self.shutdown = shutdown
    }

    private static func makeEpoch() -> String {
        var generator = SystemRandomNumberGenerator()
        let value = generator.next() as UInt64
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// Per-loop scratch state, reached through `EventLoop.context`; touched only on that loop's thread.
final class LoopContext {
    var dates = HTTPDateCache()

    /// The current IMF-fixdate for a Date header, recomputed at most once a second.
    func dateHeader() -> String {
        dates.string(epochSeconds: Int(time(nil)))
    }
}

extension EventLoop {
    /// This loop's server state (created on first use, on the loop's thread).
    var server: LoopContext {
        if let existing = context as? LoopContext { return existing }
        let created = LoopContext()
        context = created
        return created
    }
}
