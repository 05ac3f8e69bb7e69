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
        var stamp: [UInt8] = [UInt8(ascii: "-")]  // the same for every transaction of the request
        stamp.append(contentsOf: decimal(sentAt))
        let pieces = [Self.idPrefix, stamp, Self.investorPrefix, Self.syndicatePrefix, Self.amountPrefix + Self.amountBytes + Self.closing]
        // Each transaction: the pieces, a counter (≤ 20 digits), two residues (≤ 3 digits each)
        // and a newline.
        let perTransaction = pieces.reduce(0) { $0 + $1.count } + 20 + 3 + 3 + 1
        // Written through one pointer into one allocation: appending piece by piece (generic
        // `append(contentsOf:)`, retains of the pieces) was ~40% of the generator's time.
        let body = [UInt8](unsafeUninitializedCapacity: total * perTransaction) { buffer, written in
            guard let start = buffer.baseAddress else { return }  // capacity > 0: never nil
            var writer = ByteWriter(cursor: start)
            for counter in firstCounter..<(firstCounter + total) {
                if counter != firstCounter { writer.put(byte: UInt8(ascii: "\n")) }
                writer.put(pieces[0])
                writer.put(decimal: counter)
                writer.put(pieces[1])
                writer.put(pieces[2])
                writer.put(decimal: counter % 997)
                writer.put(pieces[3])
                writer.put(decimal: counter % 101)
                writer.put(pieces[4])
            }
            written = writer.cursor - start
        }
        let type = total > 1 ? "application/x-ndjson" : "application/json"
        let head = "POST /api/transactions HTTP/1.1\r\nHost: \(host)\r\nContent-Type: \(type)\r\nContent-Length: \(body.count)\r\n\r\n"
        var request = Array(head.utf8)
        request.append(contentsOf: body)
        return request
    }

    /// The decimal digits of `value`.
    static func decimal(_ value: UInt64) -> [UInt8] {
        Array(String(value).utf8)
    }

    private static let idPrefix = Array(#"{"id":"lt-"#.utf8)
    private static let investorPrefix = Array(#"","investorId":"i"#.utf8)
    private static let syndicatePrefix = Array(#"","syndicateId":"s"#.utf8)
    private static let amountPrefix = Array(#"","amount":""#.utf8)
    private static let amountBytes = Array(amount.utf8)
    private static let closing = Array(#""}"#.utf8)
}

/// Writes bytes through a pointer into memory the caller sized (a struct, not closures over a
/// captured pointer: those paid a dynamic exclusivity check per call).
struct ByteWriter {
    var cursor: UnsafeMutablePointer<UInt8>

    @inline(__always)
    mutating func put(byte: UInt8) {
        cursor.pointee = byte
        cursor += 1
    }

    @inline(__always)
    mutating func put(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { source in
            if let first = source.baseAddress { cursor.update(from: first, count: source.count) }
        }
        cursor += bytes.count
    }

    /// The decimal digits of `value` (≥ 0).
    @inline(__always)
    mutating func put(decimal value: Int) {
        var magnitude = UInt64(value)
        var digits = 1
        var scale: UInt64 = 10
        while digits < 20 && magnitude >= scale {
            digits += 1
            scale = scale &* 10
        }
        cursor += digits
        var position = cursor
        repeat {
            position -= 1
            position.pointee = UInt8(truncatingIfNeeded: magnitude % 10) &+ UInt8(ascii: "0")
            magnitude /= 10
        } while magnitude > 0
    }
}
