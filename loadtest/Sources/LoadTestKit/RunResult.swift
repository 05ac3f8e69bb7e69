/// The measured outcome of one run against one server, as written to JSON and shown in reports.
public struct RunResult: Codable, Sendable {
    /// Scenario name.
    public var scenario: String
    /// Server name (`ours`, a peer, or `url`).
    public var server: String
    /// `host:port` of the server.
    public var endpoint: String
    /// Seconds of publishing (the measured period).
    public var durationSeconds: Double

    // Connections.
    public var subscribersRequested = 0
    public var subscribersReady = 0
    public var subscribersFailed = 0
    public var subscribersClosedDuringRun = 0
    public var connectSeconds = 0.0
    public var connectsPerSecond = 0.0

    // Publishing.
    public var published = 0
    public var accepted = 0
    public var rejected = 0
    public var retries = 0
    public var transportErrors = 0
    public var acceptedPerSecond = 0.0
    public var statusCounts: [String: Int] = [:]
    public var requestLatency = LatencySummary.empty

    // Delivery.
    public var messagesDelivered = 0
    public var messagesPerSecond = 0.0
    public var otherMessages = 0
    public var latency = LatencySummary.empty
    public var lost = 0
    public var worstSubscriberLost = 0
    public var duplicates = 0
    public var skippedCounters = 0

    // Server process.
    public var serverIdleRSSBytes: Int?
    public var serverPeakRSSBytes: Int?
    public var serverRSSPerConnectionBytes: Double?
    public var serverCPUAveragePercent: Double?
    public var serverCPUPeakPercent: Double?

    /// One point per second of the measured period.
    public var timeline: [TimelinePoint] = []
    /// Failure reasons with counts.
    public var failures: [String: Int] = [:]
    /// Free-form notes (e.g. why a peer was skipped).
    public var notes: [String] = []

    public init(scenario: String, server: String, endpoint: String, durationSeconds: Double) {
        self.scenario = scenario
        self.server = server
        self.endpoint = endpoint
        self.durationSeconds = durationSeconds
    }
}

/// One second of a run.
public struct TimelinePoint: Codable, Sendable {
    /// Seconds since publishing started (end of the interval).
    public var second: Double
    public var acceptedPerSecond: Double
    public var messagesPerSecond: Double
    public var latency: LatencySummary
    public var requestLatency: LatencySummary
    public var serverRSSBytes: Int?
    public var serverCPUPercent: Double?
    public var subscribersReady: Int
}

/// Everything one invocation measured, written as JSON.
public struct Report: Codable, Sendable {
    public var tool = "syndicast-loadtest"
    public var scenario: String
    /// Wall-clock start, RFC 3339.
    public var startedAt: String
    /// The command line options as given.
    public var options: [String: String]
    public var runs: [RunResult]

    public init(scenario: String, startedAt: String, options: [String: String], runs: [RunResult]) {
        self.scenario = scenario
        self.startedAt = startedAt
        self.options = options
        self.runs = runs
    }
}
