/// Renders runs as a plain-text table for the terminal.
public enum SummaryTable {
    /// One column per run, one row per measure; ratios against the run named `ours` when there are
    /// several servers.
    public static func render(_ runs: [RunResult]) -> String {
        guard !runs.isEmpty else { return "(no runs)" }
        let hasSubscribers = runs.contains { $0.subscribersRequested > 0 }
        let hasPublisher = runs.contains { $0.published > 0 }
        var rows: [(String, (RunResult) -> String)] = [("server", { $0.server })]
        if hasSubscribers {
            rows += [
                ("subscribers ready", { "\($0.subscribersReady)/\($0.subscribersRequested)" }),
                ("connect time", { "\(LatencySummary.decimal($0.connectSeconds, digits: 2)) s" }),
                ("connects/s", { "\(Int($0.connectsPerSecond))" }),
            ]
        }
        if hasPublisher {
            rows += [
                ("published", { "\($0.published)" }),
                ("accepted/s", { "\(Int($0.acceptedPerSecond))" }),
                ("rejected / errors", { "\($0.rejected) / \($0.transportErrors)" }),
                ("request p50/90/99/99.9/max", { $0.requestLatency.compactText }),
            ]
        }
        if hasSubscribers && hasPublisher {
            rows += [
                ("messages/s", { "\(Int($0.messagesPerSecond))" }),
                ("delivery p50/90/99/99.9/max", { $0.latency.compactText }),
                ("lost / duplicated", { "\($0.lost) / \($0.duplicates)" }),
                ("closed during run", { "\($0.subscribersClosedDuringRun)" }),
            ]
        }
        rows += [
            (
                "server RSS idle → peak",
                { run in
                    guard let idle = run.serverIdleRSSBytes else { return "-" }
                    return "\(idle >> 20) → \((run.serverPeakRSSBytes ?? idle) >> 20) MB"
                }
            ),
            (
                "server RSS / connection",
                { run in
                    run.serverRSSPerConnectionBytes.map { "\(Int($0)) B" } ?? "-"
                }
            ),
            (
                "server CPU avg / peak",
                { run in
                    guard let average = run.serverCPUAveragePercent else { return "-" }
                    return "\(Int(average))% / \(Int(run.serverCPUPeakPercent ?? average))%"
                }
            ),
        ]
        if runs.count > 1, let ours = runs.first(where: { $0.server == "ours" }) {
            if hasSubscribers && hasPublisher {
                rows.append(("messages/s vs ours", { ratio($0.messagesPerSecond, ours.messagesPerSecond) }))
                rows.append(("p99 vs ours", { ratio(Double($0.latency.p99), Double(ours.latency.p99)) }))
            } else if hasPublisher {
                rows.append(("accepted/s vs ours", { ratio($0.acceptedPerSecond, ours.acceptedPerSecond) }))
            }
        }
        let cells = rows.map { row in [row.0] + runs.map(row.1) }
        let widths = (0..<(runs.count + 1)).map { column in cells.map { $0[column].count }.max() ?? 0 }
        return cells.map { line in
            line.enumerated().map { column, text in
                column == 0 ? text.padding(widths[column]) : text.leftPadding(widths[column])
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    static func ratio(_ value: Double, _ base: Double) -> String {
        base > 0 ? LatencySummary.decimal(value / base, digits: 2) + "×" : "-"
    }
}

extension String {
    func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }

    func leftPadding(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
