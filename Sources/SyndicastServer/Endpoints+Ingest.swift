import Basics
import Broker
import Foundation
import Glibc
import HTTP1
import Monitor

extension Endpoints {
    /// Most transactions waiting for the broker before ingest answers 429.
    static let maximumInFlightTransactions = 2_000_000

    /// `POST /api/transactions` (DESIGN.md §3): decode here (on the event loop), then let the
    /// broker decide, journal (group commit) and apply; the 201 leaves only after the commit.
    /// Authentication, media type and the body limit were decided from the head (`decide`).
    func ingest(_ request: HTTPRequest) -> EndpointReply {
        let format: TransactionDecoder.Format = TransactionMediaType(MediaType.of(request.head)) == .ndjson ? .ndjson : .json
        let context = self.context
        let decoded = request.body.withUnsafeBytes { context.decoder.decode($0, format: format, receivedAt: wallClockMilliseconds()) }
        let transactions: [Transaction]
        switch decoded {
        case .failure(let error):
            context.metrics.refused(.invalid)
            return .failure(.transactions(error))
        case .success(let batch):
            transactions = batch
        }
        if transactions.isEmpty {
            context.metrics.refused(.empty)
            return .failure(.emptyBatch)
        }
        let count = transactions.count
        let inFlight = context.inFlightTransactions.add(count, ordering: .relaxed).newValue
        if inFlight > Self.maximumInFlightTransactions {
            context.inFlightTransactions.subtract(count, ordering: .relaxed)
            context.metrics.refused(.overloaded)
            return .failure(.overloaded)
        }
        return .ingest(transactions)
    }

    /// The response to an ingest request of `count` transactions once the broker decided it
    /// (on the request's loop): releases its admission, counts it, and maps the broker's outcome.
    func completeIngest(count: Int, _ outcome: IngestOutcome) -> HTTPResponse {
        context.inFlightTransactions.subtract(count, ordering: .relaxed)
        let metrics = context.metrics
        switch outcome {
        case .accepted(let accepted, let duplicates, let firstSeq, let lastSeq):
            metrics.transactionsAccepted.add(accepted, ordering: .relaxed)
            metrics.transactionsDuplicate.add(duplicates, ordering: .relaxed)
            return .json(201, bytes: Self.acceptedBody(accepted: accepted, duplicates: duplicates, firstSeq: firstSeq, lastSeq: lastSeq))
        case .idConflict(let details):
            metrics.refused(.idConflict)
            return APIError.idConflict(details).response
        case .invalid(let details):
            metrics.refused(.overflow)
            return APIError.totalsOverflow(details).response
        case .unavailable(let reason):
            metrics.refused(.unavailable)
            context.lifecycle.noteIngestStopped(reason)
            return APIError.unavailable(reason).response
        }
    }

    /// `{"accepted":1,"duplicates":0,"firstSeq":7,"lastSeq":7}`, written byte by byte: string
    /// interpolation here was ~2.5% of a loop's time under single-POST ingest.
    static func acceptedBody(accepted: Int, duplicates: Int, firstSeq: UInt64?, lastSeq: UInt64?) -> [UInt8] {
        var body: [UInt8] = []
        body.reserveCapacity(96)
        body.append(contentsOf: #"{"accepted":"#.utf8)
        body.append(contentsOf: String(accepted).utf8)
        body.append(contentsOf: #","duplicates":"#.utf8)
        body.append(contentsOf: String(duplicates).utf8)
        body.append(contentsOf: #","firstSeq":"#.utf8)
        body.append(contentsOf: (firstSeq.map { String($0) } ?? "null").utf8)
        body.append(contentsOf: #","lastSeq":"#.utf8)
        body.append(contentsOf: (lastSeq.map { String($0) } ?? "null").utf8)
        body.append(UInt8(ascii: "}"))
        return body
    }

    /// `POST /api/publish`: `{"topic":"orders","data":{…}}` to the subscribers of a custom topic.
    /// Authentication, media type and the 64 KiB body limit were decided from the head.
    func publish(_ request: HTTPRequest) -> EndpointReply {
        let message: PublishRequest
        switch PublishRequest.parse(request.body) {
        case .failure(let error): return .failure(error)
        case .success(let parsed): message = parsed
        }
        let context = self.context
        return .broker { reply in
            context.broker.publish(topic: message.topic, data: message.data) { outcome in
                switch outcome {
                case .published(let seq):
                    context.metrics.messagesPublished.add(1, ordering: .relaxed)
                    reply(.json(201, #"{"topic":\#(JSONEscaping.quoted(message.topic)),"seq":\#(seq)}"#))
                case .unavailable(let reason):
                    context.lifecycle.noteIngestStopped(reason)
                    reply(APIError.unavailable(reason).response)
                }
            }
        }
    }
}

/// Wall-clock milliseconds since the epoch (the default transaction timestamp).
func wallClockMilliseconds() -> Int64 {
    var spec = timespec()
    clock_gettime(CLOCK_REALTIME, &spec)
    return Int64(spec.tv_sec) * 1_000 + Int64(spec.tv_nsec) / 1_000_000
}

/// The media type of a request body, lower-cased, without parameters ("" when absent).
enum MediaType {
    static let commonTypes = ["application/json", "application/x-ndjson"]

    static func of(_ head: HTTPRequestHead) -> String {
        guard let value = head.headers["Content-Type"] else { return "" }
        // The usual spellings, recognised without splitting, trimming or lower-casing (that was
        // ~7% of a loop's time under single-POST ingest).
        for common in commonTypes where HTTPHeaders.equalsIgnoringASCIICase(value, common) { return common }
        let type = value.split(separator: ";", maxSplits: 1).first.map(String.init) ?? ""
        return type.trimmingSpaces().lowercased()
    }
}

/// A parsed `/api/publish` body.
struct PublishRequest {
    let topic: String
    /// The `data` value re-serialised as compact JSON.
    let data: [UInt8]

    /// Largest `data` accepted, so every stream client (64 KiB frames) can receive it.
    static let maximumDataBytes = 60 * 1024

    static func parse(_ body: [UInt8]) -> Result<PublishRequest, APIError> {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed]) as? [String: Any] else {
            return .failure(.invalidPublishJSON)
        }
        guard let topic = object["topic"] as? String, Topic.isValidCustom(topic) else {
            return .failure(.invalidPublishTopic)
        }
        guard let value = object["data"] else {
            return .failure(.missingPublishData)
        }
        guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .withoutEscapingSlashes]) else {
            return .failure(.unserialisablePublishData)
        }
        guard data.count <= maximumDataBytes else {
            return .failure(.publishDataTooLarge(maximumDataBytes))
        }
        return .success(PublishRequest(topic: topic, data: Array(data)))
    }
}
