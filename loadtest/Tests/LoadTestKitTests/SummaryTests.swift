import Histogram
import Testing

@testable import LoadTestKit

@Suite("Latency summaries and reports")
struct SummaryTests {
    @Test("percentiles of 1…10,000 µs")
    func percentiles() {
        var histogram = LatencySummary.makeHistogram()
        for value in 1...10_000 { _ = histogram.record(UInt64(value)) }
        let summary = LatencySummary(histogram)
        #expect(summary.count == 10_000)
        // Three significant digits: each value within 0.1 %.
        #expect((4_995...5_005).contains(summary.p50))
        #expect((8_990...9_010).contains(summary.p90))
        #expect((9_890...9_910).contains(summary.p99))
        #expect((9_980...10_010).contains(summary.p999))
        #expect((9_990...10_010).contains(summary.max))
        #expect(abs(summary.mean - 5_000.5) < 10)
    }

    @Test("an empty histogram summarises to zeros and prints a dash")
    func empty() {
        let summary = LatencySummary(LatencySummary.makeHistogram())
        #expect(summary == .empty)
        #expect(summary.compactText == "-")
    }

    @Test("merged loop samples add histograms and counts and keep the lowest head")
    func merging() {
        var first = LoopSample()
        first.delivered = 3
        first.completeHead = 10
        _ = first.latency.record(100)
        var second = LoopSample()
        second.delivered = 4
        second.completeHead = 7
        _ = second.latency.record(300)
        let merged = LoopSample.merged([first, second])
        #expect(merged.delivered == 7)
        #expect(merged.completeHead == 7)
        #expect(merged.latency.totalCount == 2)
        #expect(LatencySummary(merged.latency).max >= 300)
    }

    @Test("durations print in µs, ms and s")
    func formatting() {
        #expect(LatencySummary.format(870) == "870µs")
        #expect(LatencySummary.format(12_345) == "12.3ms")
        #expect(LatencySummary.format(4_100_000) == "4.10s")
        #expect(LatencySummary.decimal(0.05, digits: 1) == "0.1")
        #expect(LatencySummary.decimal(-1.25, digits: 1) == "-1.3" || LatencySummary.decimal(-1.25, digits: 1) == "-1.2")
    }

    @Test("only 127.0.0.0/8 targets are accepted")
    func loopbackOnly() throws {
        let parsed = try Endpoint.parse(url: "ws://127.0.0.1:8080/ws?topics=alerts")
        #expect(parsed.endpoint.port == 8080)
        #expect(parsed.target == "/ws?topics=alerts")
        #expect(try Endpoint.parse(url: "http://localhost:9000").endpoint.host == "127.0.0.1")
        #expect(try Endpoint.parse(url: "127.5.6.7:1").target == "/")
        for url in [
            "http://10.0.0.1:80", "http://192.168.1.1:80/", "http://example.com:80", "http://128.0.0.1:80", "https://127.0.0.1:1",
            "http://127.0.0.1",
        ] {
            #expect(throws: LoadTestError.self) { try Endpoint.parse(url: url) }
        }
    }

    @Test("CPU ticks come from fields 14 and 15, even with spaces in the command name")
    func procStat() {
        let line = "1234 (my server) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 3 0 100 0 0"
        #expect(ProcessSampler.parseCPUTicks(stat: line) == 325)
        #expect(ProcessSampler.parseCPUTicks(stat: "garbage") == nil)
    }

    @Test("the table compares servers and the HTML page embeds SVG plots")
    func reports() {
        var ours = RunResult(scenario: "broadcast", server: "ours", endpoint: "127.0.0.1:1", durationSeconds: 5)
        ours.subscribersRequested = 10
        ours.published = 100
        ours.messagesPerSecond = 1_000
        ours.latency = LatencySummary(count: 1, p50: 10, p90: 20, p99: 40, p999: 50, max: 60, mean: 12)
        var peer = ours
        peer.server = "peer"
        peer.messagesPerSecond = 500
        ours.timeline = [
            TimelinePoint(
                second: 1, acceptedPerSecond: 10, messagesPerSecond: 1_000, latency: ours.latency, requestLatency: .empty,
                serverRSSBytes: 1 << 20, serverCPUPercent: 50, subscribersReady: 10)
        ]
        let table = SummaryTable.render([ours, peer])
        #expect(table.contains("messages/s vs ours"))
        #expect(table.contains("0.50×"))
        let html = HTMLReport.render(Report(scenario: "broadcast", startedAt: "now", options: ["a": "<b>"], runs: [ours, peer]))
        #expect(html.contains("<svg"))
        #expect(html.contains("&lt;b&gt;"))
        #expect(!html.contains("<script"))
    }
}
