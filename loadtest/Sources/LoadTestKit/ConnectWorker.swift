import Glibc
import Reactor

/// The `worker` side of the `connect` scenario: one process holding its share of idle WebSocket
/// connections, reporting progress as JSON lines on standard output until standard input closes.
public enum ConnectWorker {
    /// Opens `connections` WebSocket connections to `endpoint` + `target`, bound round-robin to
    /// `sources`; prints `{"ready":R,"failed":F,"pending":P,"closed":C}` every 250 ms; returns when
    /// standard input reaches end of file (the parent closes it) or after `holdSeconds`.
    public static func run(endpoint: Endpoint, target: String, connections: Int, sources: [String], holdSeconds: Double) throws {
        ClientSocket.raiseOpenFileLimit()
        let group = try EventLoopGroup(threads: 1, connectionLimit: 1_000_000)
        let shared = RunShared(loops: 1)
        group.start()
        defer { group.stopAndWait() }
        guard let loop = group.loops.first else { return }
        loop.execute {
            let agent = LoopAgent()
            loop.context = agent
            agent.subscribers = SubscriberGroup(
                loop: loop, endpoint: endpoint, target: target, kind: .idle, total: connections, maxPending: 256,
                sources: sources, shared: shared)
            agent.subscribers?.start()
        }
        let deadline = MonotonicClock.seconds() + holdSeconds
        while MonotonicClock.seconds() < deadline {
            let sample = LoopSample.merged(LoopCall.onEveryLoop([loop]) { $0.takeSample() })
            print(
                #"{"ready":\#(sample.ready),"failed":\#(sample.failed),"pending":\#(sample.pending),"closed":\#(sample.closedAfterReady)}"#)
            fflush(nil)
            if standardInputClosed(waitMilliseconds: 250) { break }
        }
        _ = LoopCall.onEveryLoop([loop]) { $0.subscribers?.closeAll() }
    }

    /// Waits up to `waitMilliseconds` for standard input; true when it reached end of file.
    static func standardInputClosed(waitMilliseconds: Int32) -> Bool {
        var descriptor = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, waitMilliseconds) > 0 else { return false }
        var byte: UInt8 = 0
        return read(0, &byte, 1) <= 0
    }

    /// `127.0.0.2` … `127.0.0.254`: the source addresses spread over, so the 4-tuple space
    /// (one per source address and server port) is never the limit.
    public static let defaultSources: [String] = (2...254).map { "127.0.0.\($0)" }
}
