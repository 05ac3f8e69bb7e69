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
    /// Written as bytes into one allocation sized exactly (head and body together), from one flat
    /// template read through a single pointer. Each step was measured on the generator's own
    /// profile under NDJSON ingest, where its CPU is taken from the server it measures (2 cores):
    /// - string interpolation cost ~1 µs per transaction and capped runs near 0.35 M tx/s;
    /// - appending piece by piece (generic `append(contentsOf:)`) was ~40% of its time;
    /// - reading the pieces from an array of arrays retained and released each piece per
    ///   transaction (~18% of its time), and copying a separately built body behind the head
    ///   another ~9%.
    public static func bytes(host: String, firstCounter: Int, count: Int, sentAt: UInt64) -> [UInt8] {
        let total = max(count, 1)
        let last = firstCounter + total
        let stamp = decimal(sentAt)
        // The body's exact length: fixed bytes per transaction, plus each one's digits.
        var bodyLength = (total - 1) + total * (Self.fixedBytes + 1 + stamp.count)  // newlines; "-" + stamp
        for counter in firstCounter..<last {
            bodyLength += digitCount(counter) + digitCount(counter % 997) + digitCount(counter % 101)
        }
        let type = total > 1 ? "application/x-ndjson" : "application/json"
        let head = Array(
            "POST /api/transactions HTTP/1.1\r\nHost: \(host)\r\nContent-Type: \(type)\r\nContent-Length: \(bodyLength)\r\n\r\n".utf8)
        return [UInt8](unsafeUninitializedCapacity: head.count + bodyLength) { buffer, written in
            guard let start = buffer.baseAddress else { return }  // capacity > 0: never nil
            var writer = ByteWriter(cursor: start)
            head.withUnsafeBufferPointer { writer.put($0) }
            stamp.withUnsafeBufferPointer { stampBytes in
                Self.template.withUnsafeBufferPointer { template in
                    let pieces = Self.pieceRanges.map { UnsafeBufferPointer(rebasing: template[$0]) }
                    for counter in firstCounter..<last {
                        if counter != firstCounter { writer.put(byte: UInt8(ascii: "\n")) }
                        writer.put(pieces[0])
                        writer.put(decimal: counter)
                        writer.put(byte: UInt8(ascii: "-"))
                        writer.put(stampBytes)
                        writer.put(pieces[1])
                        writer.put(decimal: counter % 997)
                        writer.put(pieces[2])
                        writer.put(decimal: counter % 101)
                        writer.put(pieces[3])
                    }
                }
            }
            written = writer.cursor - start
            precondition(written == head.count + bodyLength, "TransactionRequest: size estimate and output disagree")
        }
    }

    /// The number of decimal digits of `value` (≥ 0).
    @inline(__always)
    static func digitCount(_ value: Int) -> Int {
        var digits = 1
        var scale = 10
        while value >= scale && digits < 19 {
            digits += 1
            scale &*= 10
        }
        return digits
    }

    /// The decimal digits of `value`.
    static func decimal(_ value: UInt64) -> [UInt8] {
        Array(String(value).utf8)
    }

    /// The constant pieces of one transaction, back to back: before the counter, between the
    /// stamp and the investor residue, between the residues, and after the syndicate residue.
    private static let pieceStrings = [
        #"{"id":"lt-"#, #"","investorId":"i"#, #"","syndicateId":"s"#, #"","amount":""# + amount + #""}"#,
    ]
    private static let template = Array(pieceStrings.joined().utf8)
    private static let pieceRanges: [Range<Int>] = {
        var ranges: [Range<Int>] = []
        var offset = 0
        for piece in pieceStrings {
            ranges.append(offset..<(offset + piece.utf8.count))
            offset += piece.utf8.count
        }
        return ranges
    }()
    /// Bytes of every transaction that do not depend on its counter or stamp.
    private static let fixedBytes = template.count
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
    mutating func put(_ bytes: UnsafeBufferPointer<UInt8>) {
        if let first = bytes.baseAddress { cursor.update(from: first, count: bytes.count) }
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
