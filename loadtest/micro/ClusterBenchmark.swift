import Broker
import Foundation
import Journal
import Monitor

/// `syndicast-microbench RUNS cluster`: the broker's commit path in cluster mode, NDJSON requests
/// of 1,000 transactions in groups of 8 as in `… broker`, on a shared log that accepts every
/// request and delivers each entry back at once: what the broker thread costs per transaction
/// with a shared log (checking the group against the idempotency window, encoding the group's
/// payload and records, applying the entry read back and adding its records to the window, answering),
/// without the log's own work (the reading thread's decoding included, on the same thread here).
func clusterBenchmark(runs: Int, transactions: [Transaction]) {
    let log = AcceptingSharedLog()
    let broker = MessageBroker(
        monitor: TransactionMonitor(), epoch: "bench", sharedLog: log,
        codec: SharedLogCodec(encode: { JournalPayloadCodec.encode($0) }, decode: { try JournalPayloadCodec.decode($0) }))
    broker.startReading()
    var inputs = (0..<runs).map { run in
        stride(from: 0, to: transactions.count, by: 1_000).map { start in
            IngestRequest(
                transactions: transactions[start..<min(start + 1_000, transactions.count)].map { transaction in
                    var renamed = transaction
                    renamed.id = "c\(run)-\(transaction.id ?? "")"
                    return renamed
                }, token: start)
        }
    }
    let rate = measure(items: transactions.count) {
        let requests = inputs.removeLast()
        let counter = ReplyCounter(requests: requests.count)
        for start in stride(from: 0, to: requests.count, by: 8) {
            broker.ingest(Array(requests[start..<min(start + 8, requests.count)]), target: counter)
        }
        counter.done.wait()
        if counter.accepted != transactions.count { print("cluster broker accepted \(counter.accepted) of \(transactions.count)") }
    }
    print("== cluster broker")
    report("Broker commit path, cluster mode, NDJSON 1,000 tx/request", rate)
    broker.shutdown()
}

/// A shared log that accepts every request without deciding idempotency (beyond the broker's own
/// window check) and delivers each entry, with its records, to its one reading on the appending
/// thread.
final class AcceptingSharedLog: SharedLog, @unchecked Sendable {
    let epoch = "0000000000000000"
    let records = SharedLogRecords(key0: 1, key1: 2)
    private let lock = NSLock()
    private var count: UInt64 = 0
    private var deliver: (@Sendable (SharedLogDelivery) -> Void)?

    func append(group: SharedLogGroup, completion: @escaping @Sendable (Result<SharedLogAppendResult, SharedLogError>) -> Void) {
        lock.lock()
        count += 1
        let position = SharedLogPosition(high: 0, low: count)
        let records = group.requests.flatMap(\.records)
        deliver?(.entry(SharedLogEntry(position: position, payload: group.payload, skip: SharedLogSkipSet(), records: records)))
        lock.unlock()
        completion(.success(SharedLogAppendResult(position: position, requests: group.requests.map { _ in .accepted(duplicates: 0) })))
    }

    func read(after position: SharedLogPosition?, deliver: @escaping @Sendable (SharedLogDelivery) -> Void) -> any SharedLogReading {
        lock.lock()
        self.deliver = deliver
        lock.unlock()
        deliver(.caughtUp)
        return Reading()
    }

    struct Reading: SharedLogReading {
        func cancel() {}
    }
}
