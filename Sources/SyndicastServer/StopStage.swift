/// How far the server's stop sequence got: a stop that runs out of time names the stage it was in.
public enum StopStage: Int, Sendable, CustomStringConvertible {
    /// Listeners closed, streams closed with 1001, waiting for clients to finish and go.
    case connections
    /// Stopping and joining the event loop threads.
    case eventLoops
    /// Waiting for the broker to decide what is queued and the journal to commit it.
    case commits
    /// Closing the journal (its final checkpoint).
    case journalClose
    /// Joining the broker's and the journal pipeline's threads.
    case brokerThreads
    /// Everything stopped and joined.
    case finished

    /// What did not finish, for the operator's log line.
    public var description: String {
        switch self {
        case .connections: "clients did not finish and disconnect"
        case .eventLoops: "the event loop threads did not stop"
        case .commits: "journal commits in flight did not return (a hung fsync or disk?)"
        case .journalClose: "the journal's close (final checkpoint) did not return"
        case .brokerThreads: "the broker threads did not stop"
        case .finished: "nothing"
        }
    }
}
