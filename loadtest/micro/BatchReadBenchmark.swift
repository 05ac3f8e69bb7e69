import Broker
import Foundation
import Journal
import Monitor

/// `syndicast-microbench RUNS batch`: the readers of whole transaction batches off the broker's
/// apply path, on 50 batches of 1,000 decoded NDJSON transactions: the journal payload encoder
/// (the journal thread's work per commit group) and the idempotency digests (the event loop's work
/// per request).
func batchReadBenchmark(runs: Int, transactions: [Transaction]) {
    let batches = stride(from: 0, to: transactions.count, by: 1_000).map {
        Array(transactions[$0..<min($0 + 1_000, transactions.count)])
    }
    var total = 0
    let encodeRate = measure(items: transactions.count) {
        for batch in batches { total &+= JournalPayloadCodec.encode([.transactions(batch)]).count }
    }
    let digestRate = measure(items: transactions.count) {
        for batch in batches { total &+= TransactionDigest.of(batch).count }
    }
    print("== transaction batches (\(total & 1))")
    report("JournalPayloadCodec.encode, 1,000 tx/group (transactions)", encodeRate)
    report("TransactionDigest.of, 1,000 tx/request (transactions)", digestRate)
}
