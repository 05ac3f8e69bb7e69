import Broker
import Glibc
import HTTP1
import Monitor
import Reactor

/// One event loop's server state: its Date header cache, its stream subscribers by topic, and the
/// ingest requests it gathers during an iteration. Reached through ``ServerLoops/state(of:)`` and
/// touched only on its loop's thread (a ``LoopBound``).
final class LoopState {
    let loop: EventLoop
    var dates = HTTPDateCache()
    let subscribers: LoopSubscribers
    /// This loop's counts and samples for `/metrics`.
    let metrics: LoopMetrics
    /// Receives this loop's ingest outcomes from the broker.
    let ingestReplies: LoopIngestReplies
    /// Ingest requests parsed during this iteration, handed to the broker together at its end.
    private var pendingIngest: [IngestRequest] = []

    init(loop: EventLoop, metrics: ServerMetrics? = nil) {
        self.loop = loop
        self.metrics = LoopMetrics(target: metrics)
        self.subscribers = LoopSubscribers(metrics: self.metrics)
        self.ingestReplies = LoopIngestReplies(loop: loop)
    }

    /// Queues one request; the first of an iteration schedules the hand-off.
    ///
    /// A large request (``MessageBroker/inlineAppendLimit`` transactions or more, i.e. an NDJSON batch)
    /// is handed over at once, in one command with the small ones queued before it (their order
    /// kept), so that the broker decides it while this loop parses the next one. Held to the end
    /// of the iteration, a dozen 1,000-transaction batches reached the broker together and each
    /// stage (parse, decide, append) waited for the whole previous one: ~30% of the machine sat
    /// idle and a request took ~80 ms (durable NDJSON, batches of 1,000, 64 connections: median
    /// ~0.80 M tx/s handed over at once, 0.68–0.70 M held to the end of the iteration).
    func queueIngest(_ transactions: [Transaction], token: any Sendable, broker: MessageBroker) {
        if pendingIngest.isEmpty {
            loop.atEndOfIteration { [self] in flushIngest(broker: broker) }
        }
        pendingIngest.append(IngestRequest(transactions: transactions, token: token))
        if transactions.count >= MessageBroker.inlineAppendLimit { flushIngest(broker: broker) }
    }

    /// Hands the queued requests to the broker in one command (nothing when a large request
    /// already took them along). Also called before a query or publish is submitted, so that the
    /// broker sees one connection's pipelined requests in their order.
    func flushIngest(broker: MessageBroker) {
        guard !pendingIngest.isEmpty else { return }
        let requests = pendingIngest
        pendingIngest = []
        broker.ingest(requests, target: ingestReplies)
    }

    /// The current IMF-fixdate for a Date header, recomputed at most once a second.
    func dateHeader() -> String {
        dates.string(epochSeconds: Int(time(nil)))
    }
}

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
    /// When the request was handed over (monotonic nanoseconds), for the ingest latency.
    private let started = monotonicNanoseconds()

    init(session: HTTPSession, connection: Connection, head: HTTPRequestHead, slot: PendingReplies.Slot, count: Int) {
        self.session = session
        self.connection = connection
        self.head = head
        self.slot = slot
        self.count = count
    }

    /// Runs on the connection's loop.
    func finish(_ outcome: IngestOutcome) {
        session.context.loops.state(of: connection.loop).metrics.recordIngest(nanoseconds: monotonicNanoseconds() - started)
        session.finishReply(slot, session.endpoints.completeIngest(count: count, outcome), to: head, on: connection)
    }
}
