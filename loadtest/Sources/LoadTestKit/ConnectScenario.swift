import Foundation
import Synchronization

/// The `connect` scenario: opens many idle WebSocket connections from worker processes (each
/// under the 20,000 open-file limit), measures the connect rate and the server's memory per
/// connection (its RSS over the empty server's, after every handshake completed).
public enum ConnectScenario {
    /// Most connections one worker process holds.
    public static let connectionsPerWorker = 15_000

    /// Bytes of one worker's output not yet split into lines; touched only by that pipe's handler.
    final class LineBuffer: @unchecked Sendable {
        var data = Data()
    }

    final class Progress: Sendable {
        /// Latest (ready, failed, pending, closed) per worker.
        let latest = Mutex<[Int: [Int]]>([:])
    }

    public static func run(
        server: ServerProcess, target: String, connections: Int, holdSeconds: Double, connectTimeout: Double,
        log: (String) -> Void
    ) throws -> RunResult {
        var result = RunResult(
            scenario: "connect", server: server.name, endpoint: server.endpoint.description, durationSeconds: holdSeconds)
        result.subscribersRequested = connections
        let sampler = server.pid.map { ProcessSampler(pid: $0) }
        result.serverIdleRSSBytes = sampler?.read()?.rssBytes
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let workers = max((connections + connectionsPerWorker - 1) / connectionsPerWorker, 1)
        let progress = Progress()
        var processes: [(Process, Pipe)] = []
        let start = MonotonicClock.seconds()
        for index in 0..<workers {
            let share = connections / workers + (index < connections % workers ? 1 : 0)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = [
                "worker", "--url", "ws://\(server.endpoint)\(target)", "--connections", String(share),
                "--source-offset", String(index * 61), "--hold", String(Int(connectTimeout + holdSeconds + 30)),
            ]
            let output = Pipe()
            let input = Pipe()
            process.standardOutput = output
            process.standardInput = input
            let buffer = LineBuffer()
            let workerIndex = index
            output.fileHandleForReading.readabilityHandler = { handle in
                buffer.data.append(handle.availableData)
                while let newline = buffer.data.firstIndex(of: 10) {
                    let line = buffer.data[buffer.data.startIndex..<newline]
                    buffer.data = Data(buffer.data[(newline + 1)...])
                    if let counts = parse(line) {
                        progress.latest.withLock { $0[workerIndex] = counts }
                    }
                }
            }
            try process.run()
            processes.append((process, input))
        }
        defer {
            for (process, input) in processes {
                try? input.fileHandleForWriting.close()
                let deadline = MonotonicClock.seconds() + 10
                while process.isRunning && MonotonicClock.seconds() < deadline { usleep(50_000) }
                if process.isRunning { process.terminate() }
            }
        }
        func totals() -> [Int] {
            progress.latest.withLock { latest in
                latest.values.reduce([0, 0, 0, 0]) { sum, counts in zip(sum, counts).map { $0 + $1 } }
            }
        }
        var counts = [0, 0, 0, 0]
        var lastLog = start
        while true {
            usleep(100_000)
            counts = totals()
            let now = MonotonicClock.seconds()
            let done = counts[0] + counts[1] >= connections
            if now - lastLog >= 1 || done {
                lastLog = now
                let rss = sampler?.read()?.rssBytes
                log(
                    "connect \(LatencySummary.decimal(now - start, digits: 1))s: ready \(counts[0])/\(connections) failed \(counts[1])"
                        + " pending \(counts[2])" + (rss.map { "  server \($0 >> 20)MB" } ?? ""))
            }
            if done || now - start > connectTimeout || processes.allSatisfy({ !$0.0.isRunning }) { break }
        }
        result.connectSeconds = MonotonicClock.seconds() - start
        result.subscribersReady = counts[0]
        result.subscribersFailed = counts[1]
        result.connectsPerSecond = result.connectSeconds > 0 ? Double(counts[0]) / result.connectSeconds : 0
        // Hold the idle connections; sample the server once a second.
        var cpu: [Double] = []
        var peak = result.serverIdleRSSBytes ?? 0
        let holdStart = MonotonicClock.seconds()
        _ = sampler?.read()
        while MonotonicClock.seconds() - holdStart < holdSeconds {
            usleep(1_000_000)
            counts = totals()
            guard let reading = sampler?.read() else { continue }
            cpu.append(reading.cpuPercent)
            peak = max(peak, reading.rssBytes)
            let point = TimelinePoint(
                second: MonotonicClock.seconds() - holdStart, acceptedPerSecond: 0, messagesPerSecond: 0, latency: .empty,
                requestLatency: .empty, serverRSSBytes: reading.rssBytes, serverCPUPercent: reading.cpuPercent,
                subscribersReady: counts[0] - counts[3])
            result.timeline.append(point)
            log(
                "hold \(Int(point.second))s: open \(point.subscribersReady)  server \(reading.rssBytes >> 20)MB  \(Int(reading.cpuPercent))%cpu"
            )
            if let idle = result.serverIdleRSSBytes, counts[0] > 0 {
                result.serverRSSPerConnectionBytes = Double(reading.rssBytes - idle) / Double(counts[0])
            }
        }
        result.subscribersClosedDuringRun = counts[3]
        result.serverPeakRSSBytes = peak > 0 ? peak : nil
        if !cpu.isEmpty {
            result.serverCPUAveragePercent = cpu.reduce(0, +) / Double(cpu.count)
            result.serverCPUPeakPercent = cpu.max()
        }
        return result
    }

    /// Reads a worker's `{"ready":R,"failed":F,"pending":P,"closed":C}` line.
    static func parse(_ line: Data) -> [Int]? {
        let text = String(decoding: line, as: UTF8.self)
        var values: [Int] = []
        for key in ["ready", "failed", "pending", "closed"] {
            guard let range = text.range(of: "\"\(key)\":") else { return nil }
            let digits = text[range.upperBound...].prefix { $0.isNumber }
            guard let value = Int(digits) else { return nil }
            values.append(value)
        }
        return values
    }
}
