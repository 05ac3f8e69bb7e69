import Glibc
import Reactor

/// The composed server: event loops, listeners, routes, sessions, and the graceful stop.
public final class SyndicastServer: Sendable {
    public let configuration: ServerConfiguration
    let group: EventLoopGroup
    let context: ServerContext
    private let shutdown = ShutdownFlag()

    /// Creates the loops; nothing is bound until `start()`.
    public init(configuration: ServerConfiguration) throws {
        self.configuration = configuration
        self.group = try EventLoopGroup(threads: configuration.threads, connectionLimit: configuration.connectionLimit)
        self.context = ServerContext(configuration: configuration, shutdown: shutdown)
    }

    /// Binds and starts serving; returns the bound port.
    @discardableResult
    public func start() throws -> Int {
        let context = self.context
        let port = try group.listen(host: configuration.host, port: configuration.port) { _ in
            HTTPSession(context: context)
        }
        group.start()
        return port
    }

    /// Connections open right now.
    public var openConnections: Int { group.openConnections }

    /// DESIGN.md §6: stop accepting, let in-flight requests finish, close WebSockets with 1001,
    /// wait (bounded) for clients to go, then stop the loops.
    public func stopGracefully() {
        shutdown.set()
        for loop in group.loops {
            loop.execute {
                loop.closeListeners()
                loop.forEachConnection { connection in
                    switch connection.handler {
                    case let session as WebSocketSession: session.beginShutdown(connection)
                    case let session as HTTPSession: session.beginShutdown(connection)
                    default: connection.close()
                    }
                }
            }
        }
        let deadline = monotonicMilliseconds() + Int64(configuration.shutdownGraceSeconds) * 1_000 + 500
        while group.openConnections > 0 && monotonicMilliseconds() < deadline {
            usleep(5_000)
        }
        group.stopAndWait()
    }

    /// Blocks SIGINT and SIGTERM in every thread started after this call, so that
    /// `waitForTerminationSignal` receives them synchronously. Call before `start()`.
    public static func blockTerminationSignals() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Waits for SIGINT or SIGTERM and returns its number.
    public static func waitForTerminationSignal() -> Int32 {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        var signal: Int32 = 0
        sigwait(&set, &signal)
        return signal
    }
}
