import Broker
import Cluster
import Foundation
import Journal
import Monitor
import Redis
import Synchronization

/// `syndicast-microbench RUNS snapstore`: a cluster snapshot of 1M transactions over 100k
/// investors and 1k syndicates (the `… snapshot` state) with a full 1M-id idempotency window, written to and loaded from a
/// redis-server started here on a free loopback port, once with `appendonly no` and once with
/// `appendonly yes` + `appendfsync always`. Write = one `ClusterSnapshotStore.snapshotNow`
/// (lease script, capture query, HMGET, encode, upload in 1 MiB commands, write script); load =
/// `load(configuration:)` (HMGET + GET, GETRANGE per 1 MiB, decode, restore). Medians of RUNS.
/// How long Redis stalls the other clients during a write: the longest command in SLOWLOG
/// (`slowlog-log-slower-than` 500 µs; its time excludes the AOF write and fsync), and the longest
/// `PING` round trip a second connection sees while the write runs (includes them).
func snapshotStoreBenchmark(runs: Int) {
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/redis-server") else {
        print("snapstore: redis-server is not installed")
        return
    }
    let base: Int64 = 1_764_237_600_000
    var generator = SplitMix64(state: 15)
    let investors = (0..<100_000).map { "investor-\($0)" }
    let syndicates = (0..<1_000).map { "syndicate-\($0)" }
    let transactions = (0..<1_000_000).map { index in
        Transaction(
            id: nil, investorId: investors[Int(generator.next() % 100_000)], syndicateId: syndicates[Int(generator.next() % 1_000)],
            amount: Money(cents: Int64(generator.next() % 2_000_000) + 1), timestamp: base + Int64(index))
    }
    let configuration = MonitorConfiguration()
    var monitor = TransactionMonitor(configuration: configuration)
    _ = monitor.apply(TransactionBatch(transactions), alerts: { _ in })
    let log = InMemorySharedLog()
    let broker = MessageBroker(
        monitor: monitor, epoch: "bench", sharedLog: log,
        codec: SharedLogCodec(encode: { JournalPayloadCodec.encode($0) }, decode: { try JournalPayloadCodec.decode($0) }),
        startPosition: SharedLogPosition(high: 1_764_237_600_000, low: 0), seq: 2_000_000)
    // A full default idempotency window: 1M ids (the transactions' ids), in 1,000 entries' batches.
    let window = IdempotencyWindow(
        ids: (0..<1_000_000).map { _ in
            IdempotencyWindow.Id(high: generator.next() | 1, low: generator.next(), fingerprint: Int(bitPattern: UInt(generator.next())))
        },
        batches: (0..<1_000).map { IdempotencyWindow.Batch(count: 1_000, time: UInt64(base) + UInt64($0)) })
    broker.query {
        $0.restore(
            BrokerSnapshot(seq: 2_000_000, transactions: 1_000_000, amountThresholdAlerts: 0, syndicateSpikeAlerts: 0, window: window))
    }
    broker.startReading()
    while !broker.isCaughtUp { usleep(1_000) }
    func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
    let encode = median((0..<runs).map { _ in milliseconds { _ = monitor.encodeSnapshot() } })
    print("== cluster snapshot through Redis: 1M tx, 100k investors, 1k syndicates (median of \(runs) runs)")
    print(String(format: "   encode alone %.1f ms", encode))
    for (name, arguments) in [
        ("appendonly no", ["--appendonly", "no"]), ("appendfsync always", ["--appendonly", "yes", "--appendfsync", "always"]),
    ] {
        guard let (server, client, directory) = startBenchmarkRedis(arguments) else { return }
        guard let probeClient = try? RedisClient(configuration: client.configuration) else { return }
        defer {
            probeClient.close()
            client.close()
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
            try? FileManager.default.removeItem(atPath: directory)
        }
        _ = client.sendAndWait(RedisClient.command("SET", ClusterSnapshotStore.epochKey, log.epoch))
        _ = client.sendAndWait(RedisClient.command("CONFIG", "SET", "slowlog-log-slower-than", "500"))
        _ = client.sendAndWait(RedisClient.command("SLOWLOG", "RESET"))
        var writes: [Double] = []
        var loads: [Double] = []
        var pings: [Double] = []
        var size = 0
        var restoredOK = true
        let lastLoad = Mutex("")
        for run in 0..<runs {
            _ = client.sendAndWait(RedisClient.command("DEL", ClusterSnapshotStore.snapshotKey, ClusterSnapshotStore.leaseKey))
            let store = ClusterSnapshotStore(client: client, instance: "bench-\(run)", interval: .seconds(60)) { _, message in
                if message.hasPrefix("snapshot loaded") { lastLoad.withLock { $0 = message } }
            }
            var outcome = ClusterSnapshotStore.RoundOutcome.unchanged
            let probe = PingProbe(client: probeClient)
            writes.append(milliseconds { outcome = store.snapshotNow(broker: broker) })
            pings.append(probe.stop())
            guard case .written(_, let bytes, _) = outcome else {
                print("   \(name): snapshot not written: \(outcome)")
                return
            }
            size = bytes
            var loaded: ClusterSnapshotStore.Loaded?
            loads.append(milliseconds { loaded = store.load(configuration: configuration) })
            restoredOK =
                restoredOK && loaded?.monitor.leaderboard == monitor.leaderboard && loaded?.broker.seq == 2_000_000
                && loaded?.broker.window == window
        }
        print(
            String(
                format: "   %@: write %.1f ms, load %.1f ms (%.2f MB; restored state matches: %@)", name, median(writes), median(loads),
                Double(size) / 1e6, restoredOK ? "yes" : "NO"))
        print("   last load: \(lastLoad.withLock { $0 })")
        print("   Redis per write (SLOWLOG): \(slowlogSummary(client))")
        print(String(format: "   longest PING round trip during a write: %.1f ms (median of the runs' longest)", median(pings)))
        // The same write when it also trims 1,000 entries of 20 KB (the 1M transactions as NDJSON
        // commit groups of 1,000): the stored snapshot's position is past all but the last.
        var trims: [Double] = []
        var trimmed = 0
        let entry = [UInt8](repeating: 0x61, count: 20_000)
        for run in 0..<runs {
            _ = client.sendAndWait(RedisClient.command("DEL", ClusterSnapshotStore.streamKey, ClusterSnapshotStore.leaseKey))
            for start in stride(from: 1, through: 1_000, by: 100) {
                _ = client.sendAndWait(
                    batch: (start..<start + 100).map {
                        [Array("XADD".utf8), Array(ClusterSnapshotStore.streamKey.utf8), Array("1-\($0)".utf8), [0x70], entry]
                    })
            }
            _ = client.sendAndWait(
                RedisClient.command(
                    "HSET", ClusterSnapshotStore.snapshotKey, "epoch", log.epoch, "position", "1-1000", "format",
                    ClusterSnapshotStore.formatVersion))
            let store = ClusterSnapshotStore(client: client, instance: "trim-\(run)", interval: .seconds(60))
            var outcome = ClusterSnapshotStore.RoundOutcome.unchanged
            _ = client.sendAndWait(RedisClient.command("SLOWLOG", "RESET"))
            trims.append(milliseconds { outcome = store.snapshotNow(broker: broker) })
            if case .written(_, _, let count) = outcome { trimmed = count }
        }
        print(String(format: "   %@: write that trims %d entries (20 MB) %.1f ms", name, trimmed, median(trims)))
        print("   Redis per trimming write (SLOWLOG): \(slowlogSummary(client))")
    }
    broker.shutdown()
}

/// The EVALSHA calls' durations and the longest command of any kind in Redis's slow log (then
/// reset), in µs.
private func slowlogSummary(_ client: RedisClient) -> String {
    guard case .success(let value) = client.sendAndWait(RedisClient.command("SLOWLOG", "GET", "10000")) else { return "no reply" }
    _ = client.sendAndWait(RedisClient.command("SLOWLOG", "RESET"))
    let entries = (value.array ?? []).compactMap(\.array).filter { $0.count > 3 }
    let named = entries.compactMap { entry in entry[2].integer.map { (entry[3].array?.first?.string ?? "?", $0) } }
    let scripts = named.filter { $0.0 == "EVALSHA" }.map(\.1).reversed()
    let longest = named.max { $0.1 < $1.1 }.map { "\($0.0) \($0.1) µs" } ?? "none over 500 µs"
    return "write script µs \(Array(scripts)); \(named.count) commands over 500 µs, the longest \(longest)"
}

/// Sends `PING` after `PING` on its own connection until stopped, keeping the longest round trip:
/// how long Redis kept other clients waiting meanwhile.
private final class PingProbe: Sendable {
    let state = Mutex((stopping: false, longest: 0.0))
    let finished = DispatchSemaphore(value: 0)

    init(client: RedisClient) {
        Thread.detachNewThread { [self] in
            while !state.withLock({ $0.stopping }) {
                let elapsed = milliseconds { _ = client.sendAndWait(RedisClient.command("PING")) }
                state.withLock { $0.longest = max($0.longest, elapsed) }
            }
            finished.signal()
        }
    }

    /// Stops the probe; the longest round trip in milliseconds.
    func stop() -> Double {
        state.withLock { $0.stopping = true }
        finished.wait()
        return state.withLock { $0.longest }
    }
}

/// Milliseconds `body` takes.
private func milliseconds(_ body: () -> Void) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
}

/// A redis-server on a free loopback port with `arguments`, and a client of it.
private func startBenchmarkRedis(_ arguments: [String]) -> (Process, RedisClient, String)? {
    let port = Int.random(in: 20_000...40_000)
    let directory = NSTemporaryDirectory() + "microbench-snapstore-\(getpid())-\(port)"
    try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let server = Process()
    server.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
    server.arguments = ["--port", String(port), "--bind", "127.0.0.1", "--dir", directory, "--save", "", "--logfile", ""] + arguments
    server.standardOutput = FileHandle.nullDevice
    do {
        try server.run()
    } catch {
        print("snapstore: cannot start redis-server: \(error)")
        return nil
    }
    usleep(300_000)
    guard let url = try? RedisURL(parsing: "redis://127.0.0.1:\(port)"),
        let client = try? RedisClient(configuration: RedisClient.Configuration(url: url)),
        case .success = client.sendAndWait(RedisClient.command("PING"), timeout: 5_000)
    else {
        print("snapstore: no answer from redis-server on port \(port)")
        kill(server.processIdentifier, SIGKILL)
        server.waitUntilExit()
        return nil
    }
    return (server, client, directory)
}
