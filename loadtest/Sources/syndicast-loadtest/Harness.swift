import Foundation
import LoadTestKit

/// Starts the servers a scenario targets, runs it against each, and writes the reports.
struct Harness {
    let scenario: String
    let common: CommonOptions
    let options: [String: String]
    let startedAt = Date()

    var stamp: String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        return formatter.string(from: startedAt)
    }

    var resultsDirectory: String { "\(common.loadtestDirectory)/results" }

    func log(_ line: String) {
        print(line)
        fflush(nil)
    }

    /// Starts (or, with `--url`, attaches to) the server named `name`.
    func startServer(_ name: String) throws -> ServerProcess {
        try FileManager.default.createDirectory(atPath: "\(resultsDirectory)/logs", withIntermediateDirectories: true)
        let logPath = "\(resultsDirectory)/logs/\(scenario)-\(stamp)-\(name).log"
        if name == "ours" {
            if let url = common.url {
                return ServerProcess.external(endpoint: try Endpoint.parse(url: url).endpoint)
            }
            log("starting ours: \(common.serverBinary) (log \(logPath))")
            return try ServerProcess.startOurs(binary: common.serverBinary, threads: common.serverThreads, logPath: logPath)
        }
        log("starting peer \(name) with peers/peer.sh (log \(logPath))")
        return try ServerProcess.startPeer(name: name, script: "\(common.loadtestDirectory)/peers/peer.sh", logPath: logPath)
    }

    /// Runs `body` against each server in `names`, one after another; a server that fails to start
    /// is reported and skipped.
    func run(servers names: [String], _ body: (ServerProcess) throws -> RunResult) throws -> [RunResult] {
        ClientSocket.raiseOpenFileLimit()
        var runs: [RunResult] = []
        for name in names {
            let server: ServerProcess
            do {
                server = try startServer(name)
            } catch {
                log("skipping \(name): \(error)")
                var skipped = RunResult(scenario: scenario, server: name, endpoint: "-", durationSeconds: 0)
                skipped.notes.append("not started: \(error)")
                runs.append(skipped)
                continue
            }
            log("== \(scenario) against \(name) at \(server.endpoint) (pid \(server.pid.map(String.init) ?? "?"))")
            defer { if common.url == nil { server.stop() } }
            do {
                runs.append(try body(server))
            } catch {
                log("run against \(name) failed: \(error)")
                var failed = RunResult(scenario: scenario, server: name, endpoint: server.endpoint.description, durationSeconds: 0)
                failed.notes.append("failed: \(error)")
                runs.append(failed)
            }
        }
        return runs
    }

    /// Prints the summary table and writes JSON (always) and HTML (when asked).
    func finish(_ runs: [RunResult]) throws {
        let formatter = ISO8601DateFormatter()
        let report = Report(scenario: scenario, startedAt: formatter.string(from: startedAt), options: options, runs: runs)
        log("")
        log(SummaryTable.render(runs))
        for run in runs where !run.failures.isEmpty {
            log(
                "failures (\(run.server)): "
                    + run.failures.sorted { $0.value > $1.value }.map { "\($0.key) ×\($0.value)" }.joined(separator: "; "))
        }
        let jsonPath = common.json ?? "\(resultsDirectory)/\(scenario)-\(stamp).json"
        let directory = (jsonPath as NSString).deletingLastPathComponent
        if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(report).write(to: URL(fileURLWithPath: jsonPath))
        log("JSON report: \(jsonPath)")
        if let html = common.html {
            try HTMLReport.render(report).write(toFile: html, atomically: true, encoding: .utf8)
            log("HTML report: \(html)")
        }
    }
}
