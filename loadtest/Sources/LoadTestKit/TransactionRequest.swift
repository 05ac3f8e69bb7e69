import Foundation

/// Builds `POST /api/transactions` requests whose transaction ids carry a `MessageStamp`.
public enum TransactionRequest {
    /// The amount of every transaction: 25.00 by default (above the `--amount-threshold 1` the
    /// load test starts our server with, so each one raises an alert), or `$LOADTEST_AMOUNT`, e.g.
    /// to run background ingest that raises no alert against a server started with a higher
    /// threshold while a fan-out run measures alert latency (see README, "rare alerts").
    public static let amount = ProcessInfo.processInfo.environment["LOADTEST_AMOUNT"] ?? "25.00"

    /// One JSON transaction for `counter`.
    public static func transactionJSON(counter: Int, sentAt: UInt64) -> String {
        let stamp = MessageStamp(counter: counter, sentAt: sentAt)
        return
            #"{"id":"\#(stamp.transactionId)","investorId":"i\#(counter % 997)","syndicateId":"s\#(counter % 101)","amount":"\#(amount)"}"#
    }

    /// The request for `count` transactions from `firstCounter`: one JSON object when `count` is
    /// 1, NDJSON otherwise.
    ///
    /// Written as bytes from prebuilt pieces: with string interpolation the generator spent ~1 µs
    /// per transaction and, sharing the 2 cores, was what capped NDJSON ingest runs near
    /// 0.35 M tx/s.
    public static func bytes(host: String, firstCounter: Int, count: Int, sentAt: UInt64) -> [UInt8] {
        let total = max(count, 1)
        let stamp = Array("-\(sentAt)".utf8)  // the same for every transaction of the request
        var body: [UInt8] = []
        body.reserveCapacity(total * (110 + amountBytes.count))
        for counter in firstCounter..<(firstCounter + total) {
            if counter != firstCounter { body.append(UInt8(ascii: "\n")) }
            body.append(contentsOf: idPrefix)
            body.append(contentsOf: String(counter).utf8)
            body.append(contentsOf: stamp)
            body.append(contentsOf: investorPrefix)
            body.append(contentsOf: String(counter % 997).utf8)
            body.append(contentsOf: syndicatePrefix)
            body.append(contentsOf: String(counter % 101).utf8)
            body.append(contentsOf: amountPrefix)
            body.append(contentsOf: amountBytes)
            body.append(contentsOf: closing)
        }
        let type = total > 1 ? "application/x-ndjson" : "application/json"
        let head = "POST /api/transactions HTTP/1.1\r\nHost: \(host)\r\nContent-Type: \(type)\r\nContent-Length: \(body.count)\r\n\r\n"
        var request = Array(head.utf8)
        request.append(contentsOf: body)
        return request
    }

    private static let idPrefix = Array(#"{"id":"lt-"#.utf8)
    private static let investorPrefix = Array(#"","investorId":"i"#.utf8)
    private static let syndicatePrefix = Array(#"","syndicateId":"s"#.utf8)
    private static let amountPrefix = Array(#"","amount":""#.utf8)
    private static let amountBytes = Array(amount.utf8)
    private static let closing = Array(#""}"#.utf8)
}
