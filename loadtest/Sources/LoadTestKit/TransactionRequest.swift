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
    public static func bytes(host: String, firstCounter: Int, count: Int, sentAt: UInt64) -> [UInt8] {
        var body = ""
        for counter in firstCounter..<(firstCounter + max(count, 1)) {
            if !body.isEmpty { body += "\n" }
            body += transactionJSON(counter: counter, sentAt: sentAt)
        }
        let type = count > 1 ? "application/x-ndjson" : "application/json"
        let head = "POST /api/transactions HTTP/1.1\r\nHost: \(host)\r\nContent-Type: \(type)\r\nContent-Length: \(body.utf8.count)\r\n\r\n"
        return Array((head + body).utf8)
    }
}
