import ArgumentParser
import Foundation
import LoadTestKit

/// Options every scenario shares.
struct CommonOptions: ParsableArguments {
    @Option(help: "Seconds of load (the measured period).") var duration: Double = 10
    @Option(help: "Target rate in transactions or messages per second (default: as fast as allowed).") var rate: Double?
    @Option(help: "Target an already running server (loopback only), e.g. http://127.0.0.1:8080.") var url: String?
    @Option(help: "Our server binary (default: $SYNDICAST_SERVER_BIN or ../.build/release/syndicast).") var serverBin: String?
    @Option(help: "Event loop threads of our server (default: its own default, one per core less one).") var serverThreads: Int?
    @Option(help: "Event loop threads of the generator.") var threads = 1
    @Option(help: "Seconds to wait for all subscribers to connect.") var connectTimeout: Double = 60
    @Option(help: "Write the JSON report here (default: loadtest/results/<scenario>-<timestamp>.json).") var json: String?
    @Option(help: "Also write a self-contained HTML report here.") var html: String?

    func validate() throws {
        guard duration > 0, duration <= 3_600 else { throw ValidationError("--duration must be in (0, 3600] seconds") }
        if let rate, rate <= 0 { throw ValidationError("--rate must be positive") }
        guard (1...64).contains(threads) else { throw ValidationError("--threads must be 1…64") }
        if let url { _ = try Endpoint.parse(url: url) }
    }

    /// The loadtest/ directory: $SYNDICAST_LOADTEST_DIR (set by run.sh) or ./loadtest or `.`.
    var loadtestDirectory: String {
        if let directory = ProcessInfo.processInfo.environment["SYNDICAST_LOADTEST_DIR"] { return directory }
        let manager = FileManager.default
        if manager.fileExists(atPath: "loadtest/Package.swift") { return "loadtest" }
        return "."
    }

    var serverBinary: String {
        serverBin ?? ProcessInfo.processInfo.environment["SYNDICAST_SERVER_BIN"] ?? "\(loadtestDirectory)/../.build/release/syndicast"
    }
}
