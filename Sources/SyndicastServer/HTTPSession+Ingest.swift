import Basics
import Broker
import Foundation
import HTTP1
import Monitor
import Reactor

extension HTTPSession {
    /// Most transactions waiting for the broker before ingest answers 429.
    static let maximumInFlightTransactions = 2_000_000

    /// `POST /api/transactions` (DESIGN.md §3): decode on this loop, then let the broker decide,
    /// journal (group commit) and apply; the 201 leaves only after the commit. Authentication,
    /// media type and the body limit were decided from the head (`decide`).
    func ingest(_ request: HTTPRequest, on connection: Connection) {
        let head = request.head
        let format: TransactionDecoder.Format = TransactionMediaType(MediaType.of(head)) == .ndjson ? .ndjson : .json
        let context = self.context
        let decoded = request.body.withUnsafeBytes { context.decoder.decode($0, format: format, receivedAt: wallClockMilliseconds()) }
        let transactions: [Transaction]
        switch decoded {
        case .failure(let error):
            context.metrics.ingestRejected.add(1, ordering: .relaxed)
            respond(.json(error.code == .payloadTooLarge ? 413 : 400, bytes: error.jsonBytes), to: head, on: connection)
            return
        case .success(let batch):
            transactions = batch
        }
        if transactions.isEmpty {
            respond(.jsonError(status: 400, code: "invalid_fields", message: "the body holds no transaction"), to: head, on: connection)
            return
        }
        let count = transactions.count
        let inFlight = context.inFlightTransactions.add(count, ordering: .relaxed).newValue
        if inFlight > Self.maximumInFlightTransactions {
            context.inFlightTransactions.subtract(count, ordering: .relaxed)
            context.metrics.ingestRejected.add(1, ordering: .relaxed)
            var response = HTTPResponse.jsonError(status: 429, code: "overloaded", message: "ingest is saturated; retry shortly")
            response.headers.add("Retry-After", "1")
            respond(response, to: head, on: connection)
            return
        }
        let slot = reserveReply(bodyBytes: request.body.count, on: connection)
        connection.loop.server.queueIngest(
            transactions, token: PendingIngest(session: self, connection: connection, head: head, slot: slot, count: count),
            context: context, loop: connection.loop)
    }

    static func response(for outcome: IngestOutcome, metrics: ServerMetrics) -> HTTPResponse {
        switch outcome {
        case .accepted(let accepted, let duplicates, let firstSeq, let lastSeq):
            metrics.transactionsAccepted.add(accepted, ordering: .relaxed)
            metrics.transactionsDuplicate.add(duplicates, ordering: .relaxed)
            // Written byte by byte: string interpolation here was ~2.5% of a loop's time.
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
            return .json(201, bytes: body)
        case .rejected(let status, let body):
            metrics.ingestRejected.add(1, ordering: .relaxed)
            return .json(status, bytes: body)
        case .unavailable(let reason):
            metrics.ingestRejected.add(1, ordering: .relaxed)
            var response = HTTPResponse.jsonError(status: 503, code: "unavailable", message: reason)
            response.headers.add("Retry-After", "5")
            return response
        }
    }

    /// `POST /api/publish`: `{"topic":"orders","data":{…}}` to the subscribers of a custom topic.
    /// Authentication, media type and the 64 KiB body limit were decided from the head.
    func publish(_ request: HTTPRequest, on connection: Connection) {
        let head = request.head
        let parsed = PublishRequest.parse(request.body)
        guard case .success(let message) = parsed else {
            if case .failure(let problem) = parsed {
                respond(.jsonError(status: problem.status, code: problem.code, message: problem.message), to: head, on: connection)
            }
            return
        }
        let reply = respondLater(to: head, bodyBytes: request.body.count, on: connection)
        let context = self.context
        connection.loop.server.flushIngest(context: context, loop: connection.loop)
        context.broker.publish(topic: message.topic, data: message.data) { outcome in
            switch outcome {
            case .published(let seq):
                context.metrics.messagesPublished.add(1, ordering: .relaxed)
                reply(.json(201, #"{"topic":\#(JSONEscaping.quoted(message.topic)),"seq":\#(seq)}"#))
            case .unavailable(let reason):
                context.noteIngestStopped(reason)
                reply(.jsonError(status: 503, code: "unavailable", message: reason))
            }
        }
    }
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

    struct Problem: Error {
        let status: Int
        let code: String
        let message: String
    }

    /// Largest `data` accepted, so every stream client (64 KiB frames) can receive it.
    static let maximumDataBytes = 60 * 1024

    static func parse(_ body: [UInt8]) -> Result<PublishRequest, Problem> {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed]) as? [String: Any] else {
            return .failure(Problem(status: 400, code: "invalid_json", message: "expected {\"topic\":\"…\",\"data\":…}"))
        }
        guard let topic = object["topic"] as? String, Topic.isValidCustom(topic) else {
            return .failure(
                Problem(
                    status: 400, code: "invalid_topic",
                    message: "topic must be 1–64 characters of A-Z a-z 0-9 . _ - and not alerts, rankings, transactions or stats"))
        }
        guard let value = object["data"] else {
            return .failure(Problem(status: 400, code: "invalid_fields", message: "missing field \"data\""))
        }
        guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .withoutEscapingSlashes]) else {
            return .failure(Problem(status: 400, code: "invalid_json", message: "data is not serialisable JSON"))
        }
        guard data.count <= maximumDataBytes else {
            return .failure(Problem(status: 413, code: "payload_too_large", message: "data is larger than \(maximumDataBytes) bytes"))
        }
        return .success(PublishRequest(topic: topic, data: Array(data)))
    }
}
