import ArgumentParser
import Glibc
import SyndicastServer

/// `syndicast serve`: runs the server until SIGINT or SIGTERM.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the server (the default command).")

    @Option(help: "Address to bind.") var host = "127.0.0.1"
    @Option(help: "Port to bind (0 picks a free port).") var port = 8080
    @Option(help: "Journal directory (SQLite).") var data = "./data"
    @Flag(help: "Keep the journal in memory (nothing survives a restart).") var inMemory = false
    @Option(help: "Directory of the dashboard's static files.") var staticDir = "web-static"
    @Option(help: "Event loop threads (default: one per core).") var threads = ServerConfiguration.coreCount
    @Option(help: "Most connections open at once.") var connectionLimit = 100_000
    @Option(help: "Seconds between keepalive pings on quiet WebSockets.") var pingInterval = 25
    @Flag(help: "Serve the /echo WebSocket endpoint (conformance testing).") var echo = false
    @Option(help: "Bearer key accepted for ingest (repeatable).") var apiKey: [String] = []
    @Option(help: "Origin allowed to open WebSockets (repeatable; default: any).") var allowedOrigin: [String] = []

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0…65535") }
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be 1…256") }
        guard connectionLimit > 0 else { throw ValidationError("--connection-limit must be positive") }
        guard pingInterval > 0 else { throw ValidationError("--ping-interval must be positive") }
    }

    func run() throws {
        var configuration = ServerConfiguration()
        configuration.host = host
        configuration.port = port
        configuration.dataDirectory = inMemory ? nil : data
        configuration.staticDirectory = staticDir
        configuration.threads = threads
        configuration.connectionLimit = connectionLimit
        configuration.pingIntervalSeconds = pingInterval
        configuration.echo = echo
        configuration.apiKeys = apiKey
        configuration.allowedOrigins = allowedOrigin

        SyndicastServer.blockTerminationSignals()
        let server = try SyndicastServer(configuration: configuration)
        let bound = try server.start()
        let loopback = host.hasPrefix("127.") || host == "::1" || host == "localhost"
        if !loopback && apiKey.isEmpty {
            log("warning: listening on \(host) without --api-key: anyone who can reach it may ingest")
        }
        log("syndicast listening on http://\(host):\(bound)/ (\(threads) threads\(echo ? ", /echo enabled" : ""))")
        let signal = SyndicastServer.waitForTerminationSignal()
        log("received signal \(signal), stopping")
        server.stopGracefully()
        log("stopped")
    }

    private func log(_ message: String) {
        print(message)
        fflush(stdout)
    }
}
