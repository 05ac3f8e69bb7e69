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
    for arguments in [["-c", "1", "-P", "16"], ["-c", "1", "-P", "256"], ["-P", "16"]] {
        let rate = redisBenchmarkRate(port: port, extra: ["-t", "ping"] + arguments, runs: runs, test: "PING_MBULK")
        report("redis-benchmark -q -t ping \(arguments.joined(separator: " ")) -n \(total)", rate, unit: "ops/s")
    }
    // The same XADD as above through redis-benchmark's arbitrary-command mode.
    let xaddText = xadd.map { String(decoding: $0, as: UTF8.self) }
    for arguments in [["-c", "1", "-P", "16"], ["-c", "1", "-P", "256"]] {
        let rate = redisBenchmarkRate(port: port, extra: arguments + xaddText, runs: runs, test: "XADD")
        report("redis-benchmark -q \(arguments.joined(separator: " ")) XADD 100 B", rate, unit: "ops/s")
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

/// Runs redis-benchmark; returns the requests per second of its line starting with `test` (0 if
/// unreadable): `PING_MBULK` for `-t ping`, the command name for an arbitrary command.
private func redisBenchmarkRate(port: Int, extra: [String], runs: Int, test: String) -> Double {
    var rates: [Double] = []
    for _ in 0..<runs {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-benchmark")
        process.arguments = ["-p", String(port), "-q", "-n", "100000"] + extra
        let pipe = Pipe()
        process.standardOutput = pipe
        guard (try? process.run()) != nil else { return 0 }
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        // "PING_MBULK: 123456.79 requests per second, p50=0.1 msec" (an arbitrary command's line
        // starts with the command and its arguments instead).
        for line in output.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) where line.hasPrefix(test) {
            guard let end = line.range(of: " requests per second") else { continue }
            if let number = line[..<end.lowerBound].split(separator: " ").last.flatMap({ Double($0) }) { rates.append(number) }
        }
    }
    return rates.isEmpty ? 0 : rates.sorted()[rates.count / 2]
}
