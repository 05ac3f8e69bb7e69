import Glibc
import Reactor

/// What one run of the generator does: subscribers to open, what to publish and how fast.
public struct StreamRunConfiguration: Sendable {
    public var scenario: String
    /// Subscribers to open (0 for ingest only).
    public var subscribers: Int
    /// Request target of each subscriber, e.g. `/ws?topics=alerts`.
    public var subscriberTarget: String
    public var kind: StreamKind
    /// The publisher, or nil for none.
    public var publisher: PublisherKind?
    /// Counters (transactions or messages) per second; nil for as fast as allowed.
    public var rate: Double?
    /// Most counters not yet delivered to every subscriber; nil for no bound.
    public var window: Int?
    /// Seconds of publishing.
    public var duration: Double
    /// Event loop threads of the generator.
    public var threads: Int
    /// Handshakes in progress at once while connecting.
    public var maxPendingHandshakes: Int
    /// Most seconds to wait for all subscribers.
    public var connectTimeout: Double
    /// Most seconds to wait after publishing for deliveries in flight.
    public var drainTimeout: Double
    /// Source addresses to bind subscribers to (empty: the kernel's choice).
    public var sources: [String]

    public init(scenario: String, subscribers: Int, subscriberTarget: String, kind: StreamKind, publisher: PublisherKind?) {
        self.scenario = scenario
        self.subscribers = subscribers
        self.subscriberTarget = subscriberTarget
        self.kind = kind
        self.publisher = publisher
        self.rate = nil
        self.window = nil
        self.duration = 10
        self.threads = 1
        self.maxPendingHandshakes = 256
        self.connectTimeout = 60
        self.drainTimeout = 3
        self.sources = []
    }
}

/// Runs one configuration against one server on the Reactor and returns what it measured.
public enum StreamRun {
    public static func run(_ configuration: StreamRunConfiguration, server: ServerProcess, log: (String) -> Void) throws -> RunResult {
        var result = RunResult(
            scenario: configuration.scenario, server: server.name, endpoint: server.endpoint.description,
            durationSeconds: configuration.duration)
        result.subscribersRequested = configuration.subscribers
        let sampler = server.pid.map { ProcessSampler(pid: $0) }
        result.serverIdleRSSBytes = sampler?.read()?.rssBytes

        let group = try EventLoopGroup(threads: configuration.threads, connectionLimit: 1_000_000)
        let loops = group.loops
        let shared = RunShared(loops: loops.count)
        group.start()
        defer { group.stopAndWait() }
        let endpoint = server.endpoint
        for loop in loops {
            let share = configuration.subscribers / loops.count + (loop.index < configuration.subscribers % loops.count ? 1 : 0)
            loop.execute {
                let agent = LoopAgent()
                loop.context = agent
                if share > 0 {
                    agent.subscribers = SubscriberGroup(
                        loop: loop, endpoint: endpoint, target: configuration.subscriberTarget, kind: configuration.kind,
                        total: share, maxPending: max(configuration.maxPendingHandshakes / loops.count, 1),
                        sources: configuration.sources, shared: shared)
                }
                if loop.index == 0, let kind = configuration.publisher {
                    agent.publisher = Publisher(
                        loop: loop, endpoint: endpoint, kind: kind, rate: configuration.rate, window: configuration.window, shared: shared)
                    agent.publisher?.connect()
                }
                agent.subscribers?.start()
            }
        }

        // Connect phase.
        let connectStart = MonotonicClock.seconds()
        var connected = LoopSample()
        while configuration.subscribers > 0 || configuration.publisher == nil {
            usleep(250_000)
            connected = LoopSample.merged(LoopCall.onEveryLoop(loops) { $0.takeSample() })
            let elapsed = MonotonicClock.seconds() - connectStart
            let done = connected.ready + connected.failed + connected.closedAfterReady >= configuration.subscribers
            if done || elapsed > configuration.connectTimeout || Int(elapsed * 4) % 4 == 0 {
                log(
                    "connect \(LatencySummary.decimal(elapsed, digits: 1))s: ready \(connected.ready)/\(configuration.subscribers)"
                        + " failed \(connected.failed) pending \(connected.pending)")
            }
            if done || elapsed > configuration.connectTimeout { break }
        }
        result.connectSeconds = MonotonicClock.seconds() - connectStart
        result.subscribersReady = connected.ready
        result.connectsPerSecond = result.connectSeconds > 0 ? Double(connected.ready) / result.connectSeconds : 0
        if configuration.subscribers > 0 {
            usleep(500_000)  // let the server finish registering the last subscribers
            if let sampler, let rss = sampler.read()?.rssBytes, let idle = result.serverIdleRSSBytes, connected.ready > 0 {
                result.serverRSSPerConnectionBytes = Double(rss - idle) / Double(connected.ready)
            }
        }

        // Publishing phase.
        var totals = LoopSample()
        totals.completeHead = Int.max
        var cpuReadings: [Double] = []
        var peakRSS = result.serverIdleRSSBytes ?? 0
        if configuration.publisher != nil {
            let publishStart = MonotonicClock.seconds()
            _ = sampler?.read()
            let seconds = configuration.duration
            _ = LoopCall.onEveryLoop(loops) { $0.publisher?.start(seconds: seconds) }
            var lastTick = publishStart
            var tick = 1
            let drainEnd = publishStart + configuration.duration + configuration.drainTimeout
            while true {
                let target = publishStart + Double(tick)
                let now = MonotonicClock.seconds()
                if target > now { usleep(UInt32(min((target - now) * 1e6, 1e6))) }
                let samples = LoopCall.onEveryLoop(loops) { $0.takeSample() }
                let merged = LoopSample.merged(samples)
                let end = MonotonicClock.seconds()
                let interval = max(end - lastTick, 1e-3)
                lastTick = end
                totals.delivered += merged.delivered
                totals.otherMessages += merged.otherMessages
                totals.latency.add(merged.latency)
                totals.requestLatency.add(merged.requestLatency)
                let reading = sampler?.read()
                if let reading {
                    cpuReadings.append(reading.cpuPercent)
                    peakRSS = max(peakRSS, reading.rssBytes)
                }
                let point = TimelinePoint(
                    second: end - publishStart, acceptedPerSecond: Double(merged.acceptedInterval) / interval,
                    messagesPerSecond: Double(merged.delivered) / interval, latency: LatencySummary(merged.latency),
                    requestLatency: LatencySummary(merged.requestLatency), serverRSSBytes: reading?.rssBytes,
                    serverCPUPercent: reading?.cpuPercent, subscribersReady: merged.ready - merged.closedAfterReady)
                let publishing = end - publishStart < configuration.duration
                if publishing { result.timeline.append(point) }
                log(progressLine(point, merged, configuration: configuration, draining: !publishing))
                let caughtUp = merged.completeHead >= merged.published || configuration.subscribers == 0
                if !publishing && (caughtUp || end >= drainEnd) {
                    let finalTotals = merged
                    totals.published = finalTotals.published
                    totals.accepted = finalTotals.accepted
                    totals.rejected = finalTotals.rejected
                    totals.retries = finalTotals.retries
                    totals.transportErrors = finalTotals.transportErrors
                    totals.statusCounts = finalTotals.statusCounts
                    totals.duplicates = finalTotals.duplicates
                    totals.skippedCounters = finalTotals.skippedCounters
                    totals.failures = finalTotals.failures
                    totals.closedAfterReady = finalTotals.closedAfterReady
                    totals.failed = finalTotals.failed
                    break
                }
                tick += 1
            }
        }
        let expected = shared.accepted.load(ordering: .relaxed)
        let losses = LoopCall.onEveryLoop(loops) { $0.subscribers?.lost(expected: expected) ?? (0, 0) }
        _ = LoopCall.onEveryLoop(loops) { agent in
            agent.subscribers?.closeAll()
            agent.publisher?.closeAll()
        }

        let measured = configuration.duration
        result.subscribersFailed = max(totals.failed, connected.failed)
        result.subscribersClosedDuringRun = totals.closedAfterReady
        result.published = totals.published
        result.accepted = totals.accepted
        result.rejected = totals.rejected
        result.retries = totals.retries
        result.transportErrors = totals.transportErrors
        result.acceptedPerSecond = measured > 0 ? Double(totals.accepted) / measured : 0
        result.statusCounts = Dictionary(uniqueKeysWithValues: totals.statusCounts.map { (String($0.key), $0.value) })
        result.requestLatency = LatencySummary(totals.requestLatency)
        result.messagesDelivered = totals.delivered
        result.messagesPerSecond = measured > 0 ? Double(totals.delivered) / measured : 0
        result.otherMessages = totals.otherMessages
        result.latency = LatencySummary(totals.latency)
        result.lost = losses.reduce(0) { $0 + $1.0 }
        result.worstSubscriberLost = losses.reduce(0) { max($0, $1.1) }
        result.duplicates = totals.duplicates
        result.skippedCounters = totals.skippedCounters
        result.failures = totals.failures.merging(connected.failures) { max($0, $1) }
        result.serverPeakRSSBytes = peakRSS > 0 ? peakRSS : nil
        if !cpuReadings.isEmpty {
            result.serverCPUAveragePercent = cpuReadings.reduce(0, +) / Double(cpuReadings.count)
            result.serverCPUPeakPercent = cpuReadings.max()
        }
        return result
    }

    static func progressLine(_ point: TimelinePoint, _ sample: LoopSample, configuration: StreamRunConfiguration, draining: Bool) -> String
    {
        var parts = ["\(draining ? "drain t=" : "t=")\(LatencySummary.decimal(point.second, digits: 0))s"]
        if configuration.publisher != nil {
            parts.append("accepted \(Int(point.acceptedPerSecond))/s")
            if sample.rejected > 0 || sample.transportErrors > 0 {
                parts.append("rejected \(sample.rejected) errors \(sample.transportErrors)")
            }
        }
        if configuration.subscribers > 0 {
            parts.append("subs \(point.subscribersReady)")
            parts.append("msgs \(Int(point.messagesPerSecond))/s")
            parts.append("lat \(point.latency.compactText)")
            parts.append("behind \(max(sample.published - sample.completeHead, 0))")
        } else {
            parts.append("req lat \(point.requestLatency.compactText)")
        }
        if let rss = point.serverRSSBytes {
            parts.append("server \(rss >> 20)MB")
        }
        if let cpu = point.serverCPUPercent {
            parts.append("\(Int(cpu))%cpu")
        }
        return parts.joined(separator: "  ")
    }
}
