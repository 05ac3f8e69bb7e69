import Broker
import HTTP1
import Reactor

/// One loop's receiver of ingest outcomes: the broker hands it every outcome of a commit group
/// for this loop at once, and it posts them to the loop in one mailbox task.
final class LoopIngestReplies: IngestReplyTarget {
    private let loop: EventLoop

    init(loop: EventLoop) {
        self.loop = loop
    }

    func deliver(_ replies: [IngestReply]) {
        loop.execute {
            for reply in replies {
                (reply.token as? PendingIngest)?.finish(reply.outcome)
            }
        }
    }
}

/// A parked ingest request: the session and connection to answer, touched only on their loop.
final class PendingIngest: @unchecked Sendable {
    private let session: HTTPSession
    private let connection: Connection
    private let head: HTTPRequestHead
    private let slot: PendingReplies.Slot
    private let count: Int

    init(session: HTTPSession, connection: Connection, head: HTTPRequestHead, slot: PendingReplies.Slot, count: Int) {
        self.session = session
        self.connection = connection
        self.head = head
        self.slot = slot
        self.count = count
    }

    /// Runs on the connection's loop.
    func finish(_ outcome: IngestOutcome) {
        session.context.inFlightTransactions.subtract(count, ordering: .relaxed)
        if case .unavailable(let reason) = outcome { session.context.noteIngestStopped(reason) }
        session.finishReply(slot, HTTPSession.response(for: outcome, metrics: session.context.metrics), to: head, on: connection)
    }
}
