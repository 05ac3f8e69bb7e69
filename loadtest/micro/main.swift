// syndicast-microbench: throughput of the hot protocol and domain code, side by side with a
// reference implementation where one exists, median of several runs (this machine is noisy).
// Run: swift run -c release syndicast-microbench [runs] [broker|cluster|decode|journal|batch|basics|snapshot|brokersnapshot|snapstore|spike [sizes]|redis]
import Broker
import Foundation
import HTTP1
import Journal
import Monitor
import WebSocket

let runs = CommandLine.arguments.count > 1 ? max(Int(CommandLine.arguments[1]) ?? 5, 1) : 5
/// `syndicast-microbench RUNS broker` runs only the broker benchmark, `… decode` only the
/// transaction decoder (to compare two builds, or to profile one).
let only = CommandLine.arguments.count > 2 ? CommandLine.arguments[2] : nil

/// Runs `body` `runs` times; returns the median of items per second.
func measure(items: Int, _ body: () -> Void) -> Double {
    var rates: [Double] = []
    for _ in 0..<runs {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        rates.append(Double(items) / seconds)
    }
    return rates.sorted()[rates.count / 2]
}

/// Runs `body` `runs` times; returns the median of its milliseconds.
func medianMilliseconds(_ body: () -> Void) -> Double {
    var times: [Double] = []
    for _ in 0..<runs {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
    }
    return times.sorted()[times.count / 2]
}

func report(_ name: String, _ rate: Double, unit: String = "/s", versus reference: (String, Double)? = nil) {
    var line = name.padding(toLength: 62, withPad: " ", startingAt: 0) + String(format: "%12.0f %@", rate, unit)
    if let (referenceName, referenceRate) = reference {
        line += String(format: "   %.1f× %@", rate / referenceRate, referenceName)
    }
    print(line)
}

// `… redis` runs only the Redis client's pipelined throughput beside redis-benchmark (RedisBenchmark.swift).
if only == "redis" {
    redisBenchmark(runs: runs)
    exit(0)
}

// `… spike [SIZES]` runs only the spike window benchmark (SpikeBenchmark.swift).
if only == "spike" {
    let sizes = CommandLine.arguments.count > 3 ? CommandLine.arguments[3].split(separator: ",").compactMap { Int($0) } : []
    spikeBenchmark(runs: runs, sizes: sizes.isEmpty ? [200_000, 400_000] : sizes)
    exit(0)
}

// `… snapstore` runs only the cluster snapshot written to and loaded from Redis (SnapshotStoreBenchmark.swift).
if only == "snapstore" {
    snapshotStoreBenchmark(runs: runs)
    exit(0)
}

// `… brokersnapshot` runs only the broker snapshot with a 1M-id window (BrokerSnapshotBenchmark.swift).
if only == "brokersnapshot" {
    brokerSnapshotBenchmark(runs: runs)
    exit(0)
}

// `… snapshot` runs only the monitor snapshot benchmark (SnapshotBenchmark.swift).
if only == "snapshot" {
    snapshotBenchmark(runs: runs)
    exit(0)
}

// `… journal` runs only the journal payload encoder: 50,000 load-generator-shaped transactions
// in commit groups of 1,000 and of 1 (the encode on the journal thread under NDJSON ingest).
if only == "journal" {
    let sample = (0..<50_000).map { index in
        Transaction(
            id: "lt-\(index)-1764237600000", investorId: "investor-\(index % 997)",
            syndicateId: "syndicate-\(index % 53)", amount: Money(cents: Int64(index % 500_000 + 125)),
            timestamp: 1_764_237_600_000 + Int64(index / 100))
    }
    var bytesTotal = 0
    let groupRate = measure(items: sample.count) {
        for group in 0..<(sample.count / 1_000) {
            let entries: [JournalEntry] = [.transactions(Array(sample[(group * 1_000)..<((group + 1) * 1_000)]))]
            bytesTotal &+= JournalPayloadCodec.encode(entries).count
        }
    }
    report("JournalPayloadCodec.encode, 1,000 tx/entry (tx)", groupRate)
    let singles = sample.prefix(5_000).map { [JournalEntry.transactions([$0])] }
    let singleRate = measure(items: singles.count) {
        for entries in singles { bytesTotal &+= JournalPayloadCodec.encode(entries).count }
    }
    report("JournalPayloadCodec.encode, 1 tx/entry (entries)", singleRate)
    if bytesTotal == -1 { print("unreachable") }
    exit(0)
}

// MARK: Transaction decoding vs Foundation's JSONDecoder

let count = 50_000  // ~7 MB: under the decoder's 8 MiB body limit
var ndjson: [UInt8] = []
for index in 0..<count {
    ndjson += Array(
        #"{"id":"tx-\#(index)","investorId":"investor-\#(index % 997)","syndicateId":"syndicate-\#(index % 53)","amount":"\#(index % 5000 + 1).25","timestamp":1764237600000}"#
            .utf8)
    ndjson.append(0x0A)
}
let array = "[" + String(decoding: ndjson, as: UTF8.self).split(separator: "\n").joined(separator: ",") + "]"
let arrayBytes = Array(array.utf8)

struct FoundationTransaction: Decodable {
    let id: String?
    let investorId: String
    let syndicateId: String
    let amount: String
    let timestamp: Int64
}

let decoder = TransactionDecoder()
/// The input's event time as the receive time, so that no transaction is ahead of the clock.
let receivedAt: Int64 = 1_764_237_600_000
guard case .success(let sample) = ndjson.withUnsafeBytes({ decoder.decode($0, format: .ndjson, receivedAt: receivedAt) }),
    sample.count == count
else {
    print("the benchmark input does not decode")
    exit(1)
}

// `… basics` runs only the JSON-writing and UTF-8 benchmarks (BasicsBenchmark.swift).
if only == "basics" {
    basicsBenchmark(runs: runs, sample: sample, receivedAt: receivedAt)
    exit(0)
}

// `… batch` runs only the journal encoder and digest benchmark over whole decoded batches
// (BatchReadBenchmark.swift).
if only == "batch" {
    batchReadBenchmark(runs: runs, transactions: sample)
    exit(0)
}

// `… cluster` runs only the broker's commit path in cluster mode (ClusterBenchmark.swift).
if only == "cluster" {
    clusterBenchmark(runs: runs, transactions: sample)
    exit(0)
}

// MARK: The broker's commit path

/// Collects the outcomes of the benchmark's requests and wakes the waiting thread at the end.
final class ReplyCounter: IngestReplyTarget, @unchecked Sendable {
    let done = DispatchSemaphore(value: 0)
    var remaining: Int
    var accepted = 0
    init(requests: Int) { remaining = requests }
    func deliver(_ replies: [IngestReply]) {
        for reply in replies {
            if case .accepted(let count, _, _, _) = reply.outcome { accepted += count }
        }
        remaining -= replies.count
        if remaining == 0 { done.signal() }
    }
}

/// NDJSON ingest as the broker thread sees it: requests of 1,000 decoded transactions with their
/// digests (computed on the loops in the server, here beforehand), decided, applied and
/// published in commit groups of 8 requests, against a journal that only counts. One broker
/// for all runs (its idempotency table is faulted in once, as in a running server); each run's
/// ids are new.
let broker = MessageBroker(monitor: TransactionMonitor(), epoch: "bench") { entries in precondition(!entries.isEmpty) }
var brokerInputs = (0..<(only == "decode" ? 0 : runs)).map { run in
    stride(from: 0, to: count, by: 1_000).map { start in
        IngestRequest(
            transactions: sample[start..<min(start + 1_000, count)].map { transaction in
                var renamed = transaction
                renamed.id = "r\(run)-\(transaction.id ?? "")"
                return renamed
            }, token: start)
    }
}
let brokerRate =
    only == "decode"
    ? 0
    : measure(items: count) {
        let requests = brokerInputs.removeLast()
        let counter = ReplyCounter(requests: requests.count)
        for start in stride(from: 0, to: requests.count, by: 8) {
            broker.ingest(Array(requests[start..<min(start + 8, requests.count)]), target: counter)
        }
        counter.done.wait()
        if counter.accepted != count { print("broker accepted \(counter.accepted) of \(count)") }
    }
if only != "decode" {
    print("== broker")
    report("Broker commit path, NDJSON 1,000 tx/request (transactions)", brokerRate)
}
if only == "broker" { exit(0) }
var decodedTotal = 0
let ours = measure(items: count) {
    if case .success(let batch) = ndjson.withUnsafeBytes({ decoder.decode($0, format: .ndjson, receivedAt: receivedAt) }) {
        decodedTotal &+= batch.count
    }
}
let oursArray = measure(items: count) {
    if case .success(let batch) = arrayBytes.withUnsafeBytes({ decoder.decode($0, format: .json, receivedAt: receivedAt) }) {
        decodedTotal &+= batch.count
    }
}
if only == "decode" {
    report("TransactionDecoder, NDJSON (objects)", ours)
    report("TransactionDecoder, JSON array (objects)", oursArray)
    exit(0)
}
let foundation = measure(items: count) {
    if let batch = try? JSONDecoder().decode([FoundationTransaction].self, from: Data(arrayBytes)) {
        decodedTotal &+= batch.count
    }
}
print("== transaction decoding (\(count) objects, median of \(runs) runs)")
report("TransactionDecoder, NDJSON (objects)", ours, versus: ("JSONDecoder", foundation))
report("TransactionDecoder, JSON array (objects)", oursArray, versus: ("JSONDecoder", foundation))
report("Foundation JSONDecoder, JSON array (objects)", foundation)

// MARK: Identifier hashing: KeyedHash (SipHash-1-3, 8 bytes at a time) vs Swift's Hasher

let identifiers = (0..<100_000).map { "investor-\($0 &* 7_919)" }  // 11–16 bytes, like real ids
var hashTotal: UInt64 = 0
let keyedRate = measure(items: identifiers.count * 10) {
    for _ in 0..<10 {
        for identifier in identifiers { hashTotal &+= KeyedHash.process.hash(identifier) }
    }
}
let hasherRate = measure(items: identifiers.count * 10) {
    for _ in 0..<10 {
        for identifier in identifiers { hashTotal &+= UInt64(bitPattern: Int64(identifier.hashValue)) }
    }
}
// The idempotency digest: 128 bits per id, as SipHash-128 now and as Hasher + FNV-1a before.
let ids = (0..<100_000).map { "lt-\($0 &* 7_919)-1764237600123" }  // ~20 bytes, like the generator's
let wideRate = measure(items: ids.count * 10) {
    for _ in 0..<10 {
        for id in ids {
            let (high, low) = KeyedHash.process.hash128(id)
            hashTotal &+= high ^ low
        }
    }
}
let hasherFNVRate = measure(items: ids.count * 10) {
    for _ in 0..<10 {
        for id in ids {
            var hasher = Hasher()
            hasher.combine(id)
            var fnv: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in id.utf8 { fnv = (fnv ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
            hashTotal &+= UInt64(bitPattern: Int64(hasher.finalize())) ^ fnv
        }
    }
}
print("== identifier hashing (\(hashTotal & 1))")
report("KeyedHash.hash, 64 bits (investor ids)", keyedRate, versus: ("Hasher", hasherRate))
report("String.hashValue / Hasher (investor ids)", hasherRate)
report("KeyedHash.hash128 (transaction ids)", wideRate, versus: ("Hasher + FNV-1a", hasherFNVRate))
report("Hasher + FNV-1a, 128 bits (transaction ids)", hasherFNVRate)

// MARK: HTTP/1.1 request parsing

let body = #"{"investorId":"investor-1","syndicateId":"syndicate-7","amount":"2500.00"}"#
let request = Array(
    ("POST /api/transactions HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Type: application/json\r\n"
        + "Content-Length: \(body.utf8.count)\r\n\r\n" + body).utf8)
let requests = 200_000
let pipelined = Array(repeating: request, count: 100).flatMap { $0 }
var parsedTotal = 0
let httpRate = measure(items: requests) {
    var parser = HTTPRequestParser()
    pipelined.withUnsafeBytes { buffer in
        for _ in 0..<(requests / 100) {
            var offset = 0
            while offset < buffer.count {
                guard case .request(_, let consumed) = parser.parse(UnsafeRawBufferPointer(rebasing: buffer[offset...])) else { break }
                offset += consumed
                parsedTotal &+= 1
            }
        }
    }
}
print("== HTTP/1.1 (\(request.count)-byte POST)")
report("HTTPRequestParser (requests)", httpRate)
var dates = HTTPDateCache()
let responses = measure(items: requests) {
    for _ in 0..<requests {
        let response = HTTPResponse.json(201, #"{"accepted":1,"duplicates":0,"firstSeq":1,"lastSeq":1}"#)
        parsedTotal &+= HTTPResponseWriter.serialize(response, date: dates.string(epochSeconds: 1_764_237_600), keepAlive: true).count
    }
}
report("HTTPResponseWriter (responses)", responses)

// MARK: WebSocket frames

let payload = Array(repeating: UInt8(ascii: "x"), count: 100)
let frame = payload.withUnsafeBytes { WebSocketFrameEncoder.encode(.text, payload: $0, mask: 0x37fa_213d) }
let frames = 500_000
let frameBuffer = Array(repeating: frame, count: 1_000).flatMap { $0 }
var eventsTotal = 0
let frameRate = measure(items: frames) {
    var connection = WebSocketConnection(role: .server, options: WebSocketOptions(), deflate: nil)
    frameBuffer.withUnsafeBytes { buffer in
        for _ in 0..<(frames / 1_000) {
            _ = connection.receive(buffer) { _ in eventsTotal &+= 1 }
        }
    }
}
let encodeRate = measure(items: frames) {
    payload.withUnsafeBytes { buffer in
        for _ in 0..<frames { eventsTotal &+= WebSocketFrameEncoder.encode(.text, payload: buffer).count }
    }
}
var deflater = SharedMessageDeflater(windowBits: 15)
let event = Array(
    #"{"type":"alert","seq":121,"alert":{"id":"a-7","rule":"amount_threshold","syndicateId":"s1","investorId":"i7","transactionId":"t9","amount":"25000.00","threshold":"10000.00","at":"2026-11-27T10:00:00.000Z"}}"#
        .utf8)
let deflateRate = measure(items: 50_000) {
    event.withUnsafeBytes { buffer in
        for _ in 0..<50_000 { eventsTotal &+= deflater.compress(buffer).count }
    }
}
print("== WebSocket (100-byte text frames)")
report("WebSocketConnection.receive, masked (frames)", frameRate)
report("WebSocketFrameEncoder.encode (frames)", encodeRate)
report("SharedMessageDeflater, \(event.count)-byte alert (messages)", deflateRate)

// MARK: Domain and journal

let transactions: [Transaction]
if case .success(let batch) = ndjson.withUnsafeBytes({ decoder.decode($0, format: .ndjson, receivedAt: receivedAt) }) {
    transactions = batch
} else {
    transactions = []
}
let applyRate = measure(items: transactions.count) {
    var monitor = TransactionMonitor()
    if monitor.apply(TransactionBatch(transactions), alerts: { _ in eventsTotal &+= 1 }) { eventsTotal &+= 1 }
}
print("== domain and journal")
report("Monitor.apply, one batch of \(transactions.count) (transactions)", applyRate)
for synchronous in [JournalSynchronous.full, .normal] {
    let directory = NSTemporaryDirectory() + "syndicast-microbench-\(getpid())-\(synchronous.rawValue)"
    defer { try? FileManager.default.removeItem(atPath: directory) }
    guard let journal = try? SQLiteJournal(directory: directory, synchronous: synchronous) else { continue }
    let groups = transactions.count / 1_000
    let groupRate = measure(items: transactions.count) {
        for group in 0..<groups {
            try? journal.append([.transactions(Array(transactions[(group * 1_000)..<((group + 1) * 1_000)]))])
        }
    }
    report("SQLiteJournal.append, 1,000 tx/commit, sync=\(synchronous.rawValue) (tx)", groupRate)
    let single = measure(items: 500) {
        for index in 0..<500 { try? journal.append([.transactions([transactions[index]])]) }
    }
    report("SQLiteJournal.append, 1 tx/commit, sync=\(synchronous.rawValue) (commits)", single)
    journal.close()
}
if decodedTotal == -1 || parsedTotal == -1 || eventsTotal == -1 { print("unreachable") }
