import Foundation

/// A server under test that the load test started (ours or a peer), or one it only watches.
public final class ServerProcess {
    /// Display name: `ours`, `socketify`, `hummingbird`, `flyingfox`, `nginx`, or `url`.
    public let name: String
    /// Where it listens.
    public let endpoint: Endpoint
    /// Its pid, when known (for RSS and CPU sampling).
    public private(set) var pid: Int32?
    private let process: Process?
    private let stopCommand: [String]?

    init(name: String, endpoint: Endpoint, pid: Int32?, process: Process?, stopCommand: [String]?) {
        self.name = name
        self.endpoint = endpoint
        self.pid = pid
        self.process = process
        self.stopCommand = stopCommand
    }

    /// A server the load test did not start (`--url`); its pid is looked up by port.
    public static func external(endpoint: Endpoint) -> ServerProcess {
        ServerProcess(
            name: "url", endpoint: endpoint, pid: ProcessSampler.pidListening(on: endpoint.port), process: nil, stopCommand: nil)
    }

    /// Starts our server on a free port: in memory, every transaction an alert (`--amount-threshold
    /// 1`), the spike rule out of the way, `/broadcast` enabled.
    public static func startOurs(binary: String, threads: Int?, logPath: String) throws -> ServerProcess {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw LoadTestError("server binary not found at \(binary) (build it, or pass --server-bin or --url)")
        }
        let port = try ClientSocket.freePort()
        var arguments = [
            "serve", "--host", "127.0.0.1", "--port", String(port), "--in-memory", "--amount-threshold", "1",
            "--spike-threshold", "1000000000", "--broadcast", "--ping-interval", "600",
        ]
        if let threads { arguments += ["--threads", String(threads)] }
        let process = try launch(binary, arguments, logPath: logPath)
        let endpoint = try Endpoint(host: "127.0.0.1", port: port)
        let server = ServerProcess(name: "ours", endpoint: endpoint, pid: process.processIdentifier, process: process, stopCommand: nil)
        try server.waitUntilListening(timeout: 30)
        return server
    }

    /// Starts a peer with `peer.sh start NAME PORT` (which runs it in the foreground until SIGTERM)
    /// and finds its pid by port.
    public static func startPeer(name: String, script: String, logPath: String) throws -> ServerProcess {
        guard FileManager.default.isExecutableFile(atPath: script) || FileManager.default.fileExists(atPath: script) else {
            throw LoadTestError("peer script not found at \(script)")
        }
        let port = try ClientSocket.freePort()
        let process = try launch("/bin/bash", [script, "start", name, String(port)], logPath: logPath)
        let endpoint = try Endpoint(host: "127.0.0.1", port: port)
        let server = ServerProcess(
            name: name, endpoint: endpoint, pid: nil, process: process, stopCommand: nil)
        do {
            try server.waitUntilListening(timeout: 120)
        } catch {
            server.stop()
            throw error
        }
        server.pid = ProcessSampler.pidListening(on: port)
        return server
    }

    static func launch(_ executable: String, _ arguments: [String], logPath: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = FileHandle(forWritingAtPath: logPath)
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Polls until a TCP connect succeeds.
    func waitUntilListening(timeout: Double) throws {
        let deadline = MonotonicClock.seconds() + timeout
        while MonotonicClock.seconds() < deadline {
            if ClientSocket.canConnect(to: endpoint) { return }
            if let process, !process.isRunning, stopCommand == nil {
                throw LoadTestError("\(name) exited with status \(process.terminationStatus) before listening")
            }
            usleep(50_000)
        }
        throw LoadTestError("\(name) did not listen on \(endpoint) within \(Int(timeout)) s")
    }

    /// Stops the server: the stop command if any, then SIGTERM to the server and the process we
    /// launched, then SIGKILL after 5 s.
    public func stop() {
        if let stopCommand, let stopper = try? Self.launch(stopCommand[0], Array(stopCommand.dropFirst()), logPath: "/dev/null") {
            let deadline = MonotonicClock.seconds() + 15
            while stopper.isRunning && MonotonicClock.seconds() < deadline { usleep(50_000) }
        }
        var targets: [Int32] = []
        if let pid, kill(pid, 0) == 0 { targets.append(pid) }
        if let process, process.isRunning { targets.append(process.processIdentifier) }
        for target in targets { kill(target, SIGTERM) }
        let deadline = MonotonicClock.seconds() + 5
        while MonotonicClock.seconds() < deadline && targets.contains(where: { isAlive($0) }) { usleep(50_000) }
        for target in targets where isAlive(target) { kill(target, SIGKILL) }
        if let process, process.isRunning { process.waitUntilExit() }
    }

    private func isAlive(_ pid: Int32) -> Bool {
        if let process, process.processIdentifier == pid { return process.isRunning }
        return kill(pid, 0) == 0
    }
}
