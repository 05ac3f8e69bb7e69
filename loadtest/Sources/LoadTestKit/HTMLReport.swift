/// Writes a self-contained HTML page for a report: summary table and inline SVG plots of latency
/// percentiles and throughput over time (no scripts, no external files).
public enum HTMLReport {
    public static func render(_ report: Report) -> String {
        var html = """
            <!doctype html><html><head><meta charset="utf-8"><title>syndicast-loadtest \(escape(report.scenario))</title>
            <style>body{font:14px system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse}
            td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}
            h2{margin-top:32px}svg{background:#fafafa;border:1px solid #ddd;margin:8px 16px 8px 0}
            .legend span{margin-right:12px}</style></head><body>
            <h1>syndicast-loadtest: \(escape(report.scenario))</h1>
            <p>Started \(escape(report.startedAt)). Options: \(escape(report.options.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")))</p>
            <pre>\(escape(SummaryTable.render(report.runs)))</pre>
            """
        if report.runs.count > 1 {
            html += "<h2>Comparison</h2>"
            html += barChart(
                title: "messages/s", report.runs.map { ($0.server, $0.messagesPerSecond > 0 ? $0.messagesPerSecond : $0.acceptedPerSecond) }
            )
            html += barChart(
                title: "p99 latency (µs)",
                report.runs.map { ($0.server, Double($0.latency.p99 > 0 ? $0.latency.p99 : $0.requestLatency.p99)) })
        }
        for run in report.runs {
            html += "<h2>\(escape(run.server)) (\(escape(run.endpoint)))</h2>"
            let useRequest = run.latency.count == 0
            let latency = { (point: TimelinePoint) in useRequest ? point.requestLatency : point.latency }
            html += lineChart(
                title: useRequest ? "request latency per second (µs)" : "delivery latency per second (µs)",
                series: [
                    ("p50", "#1f77b4", run.timeline.map { ($0.second, Double(latency($0).p50)) }),
                    ("p90", "#2ca02c", run.timeline.map { ($0.second, Double(latency($0).p90)) }),
                    ("p99", "#ff7f0e", run.timeline.map { ($0.second, Double(latency($0).p99)) }),
                    ("p99.9", "#9467bd", run.timeline.map { ($0.second, Double(latency($0).p999)) }),
                    ("max", "#d62728", run.timeline.map { ($0.second, Double(latency($0).max)) }),
                ])
            html += lineChart(
                title: "throughput per second",
                series: [
                    ("accepted/s", "#1f77b4", run.timeline.map { ($0.second, $0.acceptedPerSecond) }),
                    ("messages/s", "#ff7f0e", run.timeline.map { ($0.second, $0.messagesPerSecond) }),
                ])
            html += lineChart(
                title: "server RSS (MiB) and CPU (%)",
                series: [
                    (
                        "RSS MiB", "#8c564b",
                        run.timeline.compactMap { point in point.serverRSSBytes.map { (point.second, Double($0) / 1_048_576) } }
                    ),
                    ("CPU %", "#e377c2", run.timeline.compactMap { point in point.serverCPUPercent.map { (point.second, $0) } }),
                ])
            if !run.failures.isEmpty {
                html += "<p>Failures: " + escape(run.failures.map { "\($0.key) ×\($0.value)" }.joined(separator: "; ")) + "</p>"
            }
        }
        return html + "</body></html>\n"
    }

    /// A line chart of several series sharing one y axis from 0.
    static func lineChart(title: String, series: [(String, String, [(Double, Double)])]) -> String {
        let width = 640.0
        let height = 260.0
        let left = 70.0
        let bottom = 30.0
        let top = 28.0
        let points = series.flatMap(\.2)
        let maxX = max(points.map(\.0).max() ?? 1, 1)
        let maxY = max(points.map(\.1).max() ?? 1, 1)
        func x(_ value: Double) -> Double { left + value / maxX * (width - left - 10) }
        func y(_ value: Double) -> Double { height - bottom - value / maxY * (height - bottom - top) }
        var svg = #"<svg xmlns="http://www.w3.org/2000/svg" width="\#(Int(width))" height="\#(Int(height))">"#
        svg += #"<text x="\#(left)" y="16" font-size="13">\#(escape(title))</text>"#
        for step in 0...4 {
            let value = maxY * Double(step) / 4
            svg += #"<line x1="\#(left)" x2="\#(width - 10)" y1="\#(y(value))" y2="\#(y(value))" stroke="gainsboro"/>"#
            svg += #"<text x="\#(left - 6)" y="\#(y(value) + 4)" font-size="11" text-anchor="end">\#(short(value))</text>"#
        }
        svg += #"<text x="\#(width - 10)" y="\#(height - 8)" font-size="11" text-anchor="end">\#(short(maxX)) s</text>"#
        var legendX = left + 200
        for (name, color, data) in series {
            if data.count > 1 {
                let path = data.map { "\(format(x($0.0))),\(format(y($0.1)))" }.joined(separator: " ")
                svg += #"<polyline fill="none" stroke="\#(color)" stroke-width="1.6" points="\#(path)"/>"#
            } else if let only = data.first {
                svg += #"<circle cx="\#(format(x(only.0)))" cy="\#(format(y(only.1)))" r="3" fill="\#(color)"/>"#
            }
            svg += #"<text x="\#(legendX)" y="16" font-size="12" fill="\#(color)">\#(escape(name))</text>"#
            legendX += Double(name.count * 7 + 18)
        }
        return svg + "</svg>"
    }

    /// A horizontal bar chart, one bar per server.
    static func barChart(title: String, _ bars: [(String, Double)]) -> String {
        let width = 640.0
        let rowHeight = 26.0
        let height = 30 + rowHeight * Double(bars.count)
        let maxValue = max(bars.map(\.1).max() ?? 1, 1)
        var svg = #"<svg xmlns="http://www.w3.org/2000/svg" width="\#(Int(width))" height="\#(Int(height))">"#
        svg += #"<text x="10" y="18" font-size="13">\#(escape(title))</text>"#
        for (index, bar) in bars.enumerated() {
            let top = 28 + rowHeight * Double(index)
            let length = bar.1 / maxValue * (width - 260)
            svg += #"<text x="10" y="\#(top + 16)" font-size="12">\#(escape(bar.0))</text>"#
            svg += #"<rect x="120" y="\#(top + 4)" width="\#(format(length))" height="\#(rowHeight - 8)" fill="steelblue"/>"#
            svg += #"<text x="\#(format(126 + length))" y="\#(top + 16)" font-size="12">\#(short(bar.1))</text>"#
        }
        return svg + "</svg>"
    }

    static func format(_ value: Double) -> String { LatencySummary.decimal(value, digits: 1) }

    static func short(_ value: Double) -> String {
        if value >= 1_000_000 { return LatencySummary.decimal(value / 1_000_000, digits: 1) + "M" }
        if value >= 10_000 { return LatencySummary.decimal(value / 1_000, digits: 0) + "k" }
        if value >= 100 { return LatencySummary.decimal(value, digits: 0) }
        return LatencySummary.decimal(value, digits: 1)
    }

    static func escape(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "&": result += "&amp;"
            case "\"": result += "&quot;"
            default: result.append(character)
            }
        }
        return result
    }
}
