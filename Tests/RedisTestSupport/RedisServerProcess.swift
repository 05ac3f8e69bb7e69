import Foundation
import Glibc

/// A redis-server a test starts on a free loopback port, with a temporary directory, and stops.
/// Never the system's server, never port 6379.
public final class RedisServerProcess {
    /// The binary, or nil when redis-server is not installed (the tests are then skipped).
    public static let binary: String? = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    public static var isInstalled: Bool { binary != nil }

    public let port: Int
    public let directory: String
    public let extraArguments: [String]
    private var pid: pid_t = 0

    /// Starts a server (with `arguments` such as `--requirepass pw`) and waits until it answers.
    public init(arguments: [String] = [], port: Int? = nil) throws {
        self.port = port ?? Self.freePort()
        directory = NSTemporaryDirectory() + "redis-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        extraArguments = arguments
        try start()
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Starts (or restarts, on the same port) the server process.
    public func start() throws {
        guard let binary = Self.binary else { throw SetupError("redis-server is not installed") }
        let arguments =
            [
                binary, "--port", String(port), "--bind", "127.0.0.1", "--dir", directory, "--save", "", "--appendonly", "no",
                "--daemonize", "no", "--logfile", directory + "/redis.log", "--enable-debug-command", "yes",
            ] + extraArguments
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var child: pid_t = 0
        // The test process blocks some signals on its threads; the child must not inherit that
        // (a redis-server with SIGTERM blocked never stops).
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let status = posix_spawn(&child, binary, nil, &attributes, &argv, environ)
        guard status == 0 else { throw SetupError("posix_spawn redis-server: \(status)") }
        pid = child
        for _ in 0..<500 {
            if Self.canConnect(port: port) { return }
            usleep(20_000)
        }
        throw SetupError("redis-server did not start on port \(port)")
    }

    /// Kills the server at once (SIGKILL) and waits for it to exit.
    public func kill() {
        signalAndWait(SIGKILL)
    }

    /// Stops the server (SIGTERM) and waits for it to exit.
    public func stop() {
        signalAndWait(SIGTERM)
    }

    private func signalAndWait(_ signal: Int32) {
        guard pid > 0 else { return }
        Glibc.kill(pid, signal)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        pid = 0
    }

    /// The URL of this server (with `userinfo` such as `:pw@` and a database path if given).
    public func url(userinfo: String = "", path: String = "") -> String {
        "redis://\(userinfo)127.0.0.1:\(port)\(path)"
    }

    /// A port no one listens on now (bound once to port 0, then released).
    public static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    public static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port)).bigEndian
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return result == 0
    }
}

public struct SetupError: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
