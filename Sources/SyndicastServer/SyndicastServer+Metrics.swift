import Monitor
import Reactor

extension ServerMetrics {
    /// Records one journal commit of `entries` that took `nanoseconds` (on the journal's thread;
    /// one commit holds a whole group, so this runs once per group, not per transaction).
    func journalCommitted(_ entries: [JournalEntry], nanoseconds: Int64) {
        families.journalCommitLatency.recordNanoseconds(nanoseconds)
        families.journalCommitGroupSize.record(entries.reduce(0) { $0 + $1.transactionCount })
    }
}

extension SyndicastServer {
    /// Starts every loop's metrics tick and, with `--metrics-port`, the `/metrics` listener on
    /// 127.0.0.1 (loopback only: the exposition names the server's load and holdings). Returns
    /// the bound metrics port, or nil.
    @discardableResult
    func startMetrics() throws -> Int? {
        let context = self.context
        for loop in group.loops {
            loop.execute { context.loops.state(of: loop).metrics.startTicking(on: loop) }
        }
        guard let port = configuration.metricsPort else { return nil }
        return try group.listen(host: "127.0.0.1", port: port) { loop in
            CurrentLoop.enter(loop)
            return HTTPSession(context: context, servesMetricsOnly: true)
        }
    }
}
