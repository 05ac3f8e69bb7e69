import Basics
import Synchronization

extension SyndicastServer {
    /// How a bounded stop ended.
    public enum StopOutcome: Sendable, Equatable {
        /// Every request, commit and thread finished in time.
        case stopped
        /// The time ran out in `stage`; the stop goes on in a thread of its own, which the caller
        /// cannot join (`syndicast serve` exits with `_exit(1)`).
        case timedOut(StopStage)
    }

    /// ``stopGracefully()`` bounded as a whole by `timeoutSeconds`.
    ///
    /// The stop runs on a thread of its own and this call waits for it at most `timeoutSeconds`:
    /// a commit that never returns (a hung fsync on a failing disk) or a thread that does not
    /// stop then leaves the process stoppable, and the outcome names the stage that did not
    /// finish. Clients get at most the grace period (`shutdownGraceSeconds` + 0.5 s) and at most
    /// half of the timeout to finish and go, so that commits and joins have the rest.
    public func stopGracefully(timeoutSeconds: Double) -> StopOutcome {
        let timeoutMilliseconds = max(Int(timeoutSeconds * 1_000), 1)
        let connectionWait = min(configuration.shutdownGraceSeconds * 1_000 + 500, timeoutMilliseconds / 2)
        let stage = ConditionLock(StopStage.connections)
        let worker: NamedThread
        do {
            worker = try NamedThread(name: "stop") {
                self.stopGracefully(connectionWaitMilliseconds: connectionWait) { reached in
                    stage.withLock { $0 = reached }
                    if reached == .finished { stage.signal() }
                }
            }
        } catch {
            // No thread to spare: stop on this one, unbounded.
            stopGracefully()
            return .stopped
        }
        let reached = stage.withLock(when: { $0 == .finished }, timeoutMilliseconds: timeoutMilliseconds) { $0 }
        guard reached == .finished else { return .timedOut(reached) }
        worker.join()
        return .stopped
    }
}
