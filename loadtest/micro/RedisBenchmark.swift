import Basics
import Foundation
import Redis

/// `syndicast-microbench RUNS redis`: pipelined throughput of `RedisClient` (one connection,
/// 16 and 256 commands in flight, 100,000 `PING` and `XADD`) against `redis-benchmark` on the
/// same redis-server (started here on a free loopback port, `appendonly no`), median of RUNS.
func redisBenchmark(runs: Int) {
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/redis-server") else {
        print("redis: redis-server is not installed")
        return
    }
    let port = Int.random(in: 20_000...40_000)
    let directory = NSTemporaryDirectory() + "microbench-redis-\(getpid())"
    try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let server = Process()
    server.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
    server.arguments = [
        "--port", String(port), "--bind", "127.0.0.1", "--dir", directory, "--save", "", "--appendonly", "no", "--logfile", "",
    ]
    server.standardOutput = FileHandle.nullDevice
    defer {
        kill(server.processIdentifier, SIGKILL)
        server.waitUntilExit()
        try? FileManager.default.removeItem(atPath: directory)
    }
    do {
        try server.run()
    } catch {
        print("redis: cannot start redis-server: \(error)")
        return
    }
    usleep(300_000)
    guard let url = try? RedisURL(parsing: "redis://127.0.0.1:\(port)"),
        let client = try? RedisClient(configuration: RedisClient.Configuration(url: url))
    else { return }
    defer { client.close() }
    guard case .success = client.sendAndWait(RedisClient.command("PING"), timeout: 5_000) else {
        print("redis: no answer from redis-server on port \(port)")
        return
    }
    let total = 100_000
    print("== Redis client, one connection, \(total) commands (median of \(runs) runs); redis-server on port \(port)")
    let ping = RedisClient.command("PING")
    let xadd: [[UInt8]] = [
        Array("XADD".utf8), Array("bench".utf8), Array("MAXLEN".utf8), Array("~".utf8), Array("100000".utf8),
        Array("*".utf8), Array("p".utf8), Array(repeating: 120, count: 100),
    ]
    for (name, command) in [("PING", ping), ("XADD 100 B", xadd)] {
        for window in [16, 256] {
            let rate = measure(items: total) { runWindow(client: client, command: command, total: total, window: window) }
            report("RedisClient \(name), \(window) in flight", rate, unit: "ops/s")
        }
    }
    for arguments in [["-c", "1", "-P", "16"], ["-P", "16"]] {
        let rate = redisBenchmarkRate(port: port, extra: arguments, runs: runs)
        report("redis-benchmark -q -t ping \(arguments.joined(separator: " ")) -n \(total)", rate, unit: "ops/s")
    }
}

/// Sends `total` commands keeping `window` in flight (each completion sends the next).
private func runWindow(client: RedisClient, command: [[UInt8]], total: Int, window: Int) {
    let state = ConditionLock<(sent: Int, done: Int)>((0, 0))
    @Sendable func sendNext() {
        let go = state.withLock { state -> Bool in
            guard state.sent < total else { return false }
            state.sent += 1
            return true
        }
        guard go else { return }
        client.send(command) { _ in
            let finished = state.withLock { state -> Bool in
                state.done += 1
                return state.done == total
            }
            if finished { state.signal() } else { sendNext() }
        }
    }
    for _ in 0..<window { sendNext() }
    state.withLock(when: { $0.done >= total }) { _ in }
}

/// Runs redis-benchmark's PING test; returns its PING_MBULK requests per second (0 if unreadable).
private func redisBenchmarkRate(port: Int, extra: [String], runs: Int) -> Double {
    var rates: [Double] = []
    for _ in 0..<runs {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-benchmark")
        process.arguments = ["-p", String(port), "-q", "-t", "ping", "-n", "100000"] + extra
        let pipe = Pipe()
        process.standardOutput = pipe
        guard (try? process.run()) != nil else { return 0 }
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        // "PING_MBULK: 123456.79 requests per second, p50=0.1 msec"
        for line in output.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) where line.hasPrefix("PING_MBULK") {
            if let number = line.split(separator: " ").dropFirst().first.flatMap({ Double($0) }) { rates.append(number) }
        }
    }
    return rates.isEmpty ? 0 : rates.sorted()[rates.count / 2]
}
