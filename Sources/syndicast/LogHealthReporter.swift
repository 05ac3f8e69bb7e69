import Dispatch
import Logging
import SyndicastServer

/// Logs refused clients by class and a journal failure, counted per interval, never per request.
///
/// Every `interval` seconds it reads ``SyndicastServer/health(_:)``: each refusal class whose
/// counter grew gets one line with how many in the interval and in total; a journal failure gets
/// one critical line, the first time it is seen. Stopped (and waited for) by ``stop()``.
final class LogHealthReporter: @unchecked Sendable {
    private let server: SyndicastServer
    private let logger: Logger
    private let interval: Int
    /// Serialises the ticks and owns `previous` (touched only on it).
    private let queue = DispatchQueue(label: "syndicast.log-health")
    private var previous = ServerHealth(refusedConnections: 0, rejectedIngestRequests: 0, slowConsumersClosed: 0)
    private var timer: DispatchSourceTimer?

    init(server: SyndicastServer, logger: Logger, intervalSeconds: Int = 10) {
        self.server = server
        self.logger = logger
        self.interval = max(intervalSeconds, 1)
    }

    /// Starts the periodic check.
    func start() {
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + .seconds(interval), repeating: .seconds(interval))
        timer.setEventHandler { [self] in
            server.health { health in self.queue.async { self.report(health) } }
        }
        self.timer = timer
        timer.resume()
    }

    /// Stops the timer and waits until no tick is running.
    func stop() {
        timer?.cancel()
        queue.sync {}
    }

    private func report(_ health: ServerHealth) {
        for record in Self.records(previous: previous, current: health, intervalSeconds: interval) {
            logger.log(level: record.level, "\(record.message)", metadata: record.metadata)
        }
        previous = health
    }

    /// One log record to write.
    struct Record {
        var level: Logger.Level
        var message: String
        var metadata: Logger.Metadata
    }

    /// The records for the change from `previous` to `current`: one per refusal class that grew,
    /// one for a journal failure not seen before.
    static func records(previous: ServerHealth, current: ServerHealth, intervalSeconds: Int) -> [Record] {
        var records: [Record] = []
        if let failure = current.journalFailure, previous.journalFailure == nil {
            records.append(
                Record(
                    level: .critical, message: "journal failed; ingest and publish answer 503 until restart",
                    metadata: ["error": "\(failure)"]))
        }
        for (before, after) in zip(previous.refusals, current.refusals) where after.count > before.count {
            records.append(
                Record(
                    level: .warning, message: "refused clients: \(after.name)",
                    metadata: [
                        "class": "\(after.name)", "count": "\(after.count - before.count)",
                        "seconds": "\(intervalSeconds)", "total": "\(after.count)",
                    ]))
        }
        return records
    }
}
