import ArgumentParser
import Foundation
import LoadTestKit

/// glibc's `mallopt(M_MMAP_THRESHOLD, 64 MiB)` and `mallopt(M_TRIM_THRESHOLD, 512 MiB)`: large
/// buffers come from the heap and freed memory stays mapped. (`malloc.h` is not in the Glibc
/// module, so the function is looked up by name; the constants are -3 and -1 there.)
func keepFreedMemory() {
    typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
    let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
    _ = mallopt(-3, 64 << 20)
    _ = mallopt(-1, 512 << 20)
}

/// The options map stored in the JSON report.
func recordedOptions(_ common: CommonOptions, _ extra: [String: String]) -> [String: String] {
    var options = extra
    options["commandLine"] = CommandLine.arguments.dropFirst().joined(separator: " ")
    options["duration"] = "\(common.duration)"
    options["rate"] = common.rate.map { "\($0)" } ?? "max"
    options["generatorThreads"] = "\(common.threads)"
    return options
}

/// Splits `--peers ours,socketify` into names.
func serverNames(_ peers: String) -> [String] {
    peers.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
}

struct FanoutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fanout", abstract: "N subscribers on /ws?topics=alerts; a publisher POSTs transactions that raise alerts.")

    @OptionGroup var common: CommonOptions
    @Option(help: "Subscribers.") var subscribers = 10_000
    @Option(help: "Publisher keep-alive connections.") var publishers = 4
    @Option(help: "Most transactions not yet delivered to every subscriber (≤ 200).") var window = 128
    @Option(help: "Most POSTs in flight on each publisher connection (HTTP/1.1 pipelining, ≤ 32).") var pipeline = 1

    func validate() throws {
        guard subscribers >= 1 else { throw ValidationError("--subscribers must be positive") }
        guard (1...200).contains(window) else { throw ValidationError("--window must be 1…200") }
        guard (1...64).contains(publishers) else { throw ValidationError("--publishers must be 1…64") }
        // The server parses at most 32 requests ahead on one connection (HTTPSession.pipelineWindow).
        guard (1...32).contains(pipeline) else { throw ValidationError("--pipeline must be 1…32") }
    }

    func run() throws {
        let harness = Harness(
            scenario: "fanout", common: common,
            options: recordedOptions(
                common,
                ["subscribers": "\(subscribers)", "publishers": "\(publishers)", "window": "\(window)", "pipeline": "\(pipeline)"]))
        let runs = try harness.run(servers: ["ours"]) { server in
            var configuration = StreamRunConfiguration(
                scenario: "fanout", subscribers: subscribers, subscriberTarget: "/ws?topics=alerts", kind: .alerts,
                publisher: .http(connections: publishers, batch: 1, pipeline: pipeline))
            configuration.apply(common)
            configuration.window = window
            return try StreamRun.run(configuration, server: server, log: harness.log)
        }
        try harness.finish(runs)
    }
}

struct BroadcastCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broadcast", abstract: "N subscribers on /broadcast of ours and each peer; 128-byte stamped messages.")

    @OptionGroup var common: CommonOptions
    @Option(help: "Subscribers per server.") var subscribers = 1_000
    @Option(help: "Servers, in order: ours, socketify, hummingbird, flyingfox.") var peers = "ours"
    @Option(help: "Message size in bytes (at least 64).") var size = 128
    @Option(help: "Most messages not yet delivered to every subscriber (≤ 200).") var window = 128

    func validate() throws {
        guard subscribers >= 1 else { throw ValidationError("--subscribers must be positive") }
        guard (1...200).contains(window) else { throw ValidationError("--window must be 1…200") }
        guard (64...65_536).contains(size) else { throw ValidationError("--size must be 64…65536") }
    }

    func run() throws {
        let harness = Harness(
            scenario: "broadcast", common: common,
            options: recordedOptions(common, ["subscribers": "\(subscribers)", "peers": peers, "size": "\(size)", "window": "\(window)"]))
        let runs = try harness.run(servers: serverNames(peers)) { server in
            var configuration = StreamRunConfiguration(
                scenario: "broadcast", subscribers: subscribers, subscriberTarget: "/broadcast", kind: .broadcast,
                publisher: .webSocket(target: "/broadcast", size: size))
            configuration.apply(common)
            configuration.window = window
            return try StreamRun.run(configuration, server: server, log: harness.log)
        }
        try harness.finish(runs)
    }
}

struct IngestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest", abstract: "Keep-alive connections POSTing transactions (JSON, or NDJSON batches).")

    @OptionGroup var common: CommonOptions
    @Option(help: "Keep-alive connections.") var connections = 64
    @Option(help: "Transactions per request (NDJSON when > 1).") var batch = 1
    @Option(help: "Servers, in order: ours, nginx.") var peers = "ours"

    func validate() throws {
        guard (1...10_000).contains(connections) else { throw ValidationError("--connections must be 1…10000") }
        guard (1...10_000).contains(batch) else { throw ValidationError("--batch must be 1…10000") }
    }

    func run() throws {
        // Every NDJSON request is a fresh ~100 KiB buffer: keep malloc from returning such memory
        // to the kernel and faulting it in again for the next one (page faults are otherwise ~12%
        // of the generator's time under NDJSON ingest, CPU taken from the server it measures).
        keepFreedMemory()
        let harness = Harness(
            scenario: "ingest", common: common,
            options: recordedOptions(common, ["connections": "\(connections)", "batch": "\(batch)", "peers": peers]))
        let runs = try harness.run(servers: serverNames(peers)) { server in
            var configuration = StreamRunConfiguration(
                scenario: "ingest", subscribers: 0, subscriberTarget: "/", kind: .alerts,
                publisher: .http(connections: connections, batch: batch))
            configuration.apply(common)
            return try StreamRun.run(configuration, server: server, log: harness.log)
        }
        try harness.finish(runs)
    }
}

struct MixedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mixed", abstract: "Dashboard-like subscribers (alerts, rankings, stats) plus steady ingest.")

    @OptionGroup var common: CommonOptions
    @Option(help: "Subscribers.") var subscribers = 1_000
    @Option(help: "Ingest keep-alive connections.") var connections = 8
    @Option(help: "Ingest rate when --rate is not given (transactions per second).") var defaultRate: Double = 1_000

    func run() throws {
        let harness = Harness(
            scenario: "mixed", common: common,
            options: recordedOptions(common, ["subscribers": "\(subscribers)", "connections": "\(connections)"]))
        let runs = try harness.run(servers: ["ours"]) { server in
            var configuration = StreamRunConfiguration(
                scenario: "mixed", subscribers: subscribers, subscriberTarget: "/ws?topics=alerts,rankings,stats", kind: .alerts,
                publisher: .http(connections: connections, batch: 1))
            configuration.apply(common)
            configuration.rate = common.rate ?? defaultRate
            configuration.window = 200
            return try StreamRun.run(configuration, server: server, log: harness.log)
        }
        try harness.finish(runs)
    }
}

struct ConnectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connect",
        abstract: "Many idle WebSocket connections from 127.0.0.2…254 over worker processes: connect rate, memory per connection.")

    @OptionGroup var common: CommonOptions
    @Option(help: "Connections to open.") var connections = 19_000
    @Option(help: "Request target of each connection.") var target = "/ws?topics=alerts"

    func run() throws {
        let harness = Harness(
            scenario: "connect", common: common, options: recordedOptions(common, ["connections": "\(connections)", "target": target]))
        let runs = try harness.run(servers: ["ours"]) { server in
            try ConnectScenario.run(
                server: server, target: target, connections: connections, holdSeconds: common.duration,
                connectTimeout: common.connectTimeout, log: harness.log)
        }
        try harness.finish(runs)
    }
}

/// Hidden: one worker process of the `connect` scenario.
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "(internal) connect-scenario worker.", shouldDisplay: false)

    @Option var url: String
    @Option var connections: Int
    @Option var sourceOffset = 0
    @Option var hold: Double = 120

    func run() throws {
        let (endpoint, target) = try Endpoint.parse(url: url)
        let sources = ConnectWorker.defaultSources
        let offset = sourceOffset % sources.count
        try ConnectWorker.run(
            endpoint: endpoint, target: target, connections: connections,
            sources: Array(sources[offset...] + sources[..<offset]), holdSeconds: hold)
    }
}

extension StreamRunConfiguration {
    /// Applies the shared options.
    mutating func apply(_ common: CommonOptions) {
        duration = common.duration
        rate = common.rate
        threads = common.threads
        connectTimeout = common.connectTimeout
    }
}
