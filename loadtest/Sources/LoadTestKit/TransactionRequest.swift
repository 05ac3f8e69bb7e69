import Foundation
import Reactor

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
    /// template read through a single pointer, because the generator's CPU is taken from the
    /// server it measures (2 cores). On the generator's own profile under NDJSON ingest
    /// (`loadtest/run.sh ingest --batch 1000`) the alternatives cost:
    /// - string interpolation ~1 µs per transaction, capping runs near 0.35 M tx/s;
    /// - appending piece by piece (generic `append(contentsOf:)`) ~40% of its time;
    /// - reading the pieces from an array of arrays, which retains and releases each piece per
    ///   transaction, ~18%, and copying a separately built body behind the head another ~9%;
    /// - formatting three decimals per transaction (divisions) and a `memmove` call for each short
    ///   piece ~60%: so the counter is an ASCII odometer incremented in place, the two residues'
    ///   digits come from tables, and short copies are inline word stores (~0.08 µs per
    ///   transaction, against ~0.17 µs with formatting and `memmove`).
    public static func bytes(host: String, firstCounter: Int, count: Int, sentAt: UInt64) -> [UInt8] {
        chunk(host: host, firstCounter: firstCounter, count: count, sentAt: sentAt).array
    }

    /// The same request, written in place into a chunk the connection sends as it is (copying a
    /// ~100 KiB request into the connection's queue costs ~7% of the generator's time).
    public static func chunk(host: String, firstCounter: Int, count: Int, sentAt: UInt64) -> ByteChunk {
        let total = max(count, 1)
        let stamp = decimal(sentAt)
        let type = total > 1 ? "application/x-ndjson" : "application/json"
        let bodyLength = Self.bodyLength(firstCounter: firstCounter, count: total, stampDigits: stamp.count)
        let head = Array(
            "POST /api/transactions HTTP/1.1\r\nHost: \(host)\r\nContent-Type: \(type)\r\nContent-Length: \(bodyLength)\r\n\r\n".utf8)
        return ByteChunk(count: head.count + bodyLength) { buffer in
            guard let start = buffer.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
            var writer = ByteWriter(cursor: start)
            head.withUnsafeBufferPointer { writer.put($0) }
            stamp.withUnsafeBufferPointer { stampBytes in
                Self.template.withUnsafeBufferPointer { template in
                    Self.residueDigits.withUnsafeBufferPointer { residues in
                        let pieces = Self.pieceRanges.map { UnsafeBufferPointer(rebasing: template[$0]) }
                        var counter = DecimalOdometer(firstCounter)
                        var investor = firstCounter % 997
                        var syndicate = firstCounter % 101
                        for index in 0..<total {
                            if index != 0 { writer.put(byte: UInt8(ascii: "\n")) }
                            writer.putShort(pieces[0])
                            counter.write(into: &writer)
                            writer.put(byte: UInt8(ascii: "-"))
                            writer.putShort(stampBytes)
                            writer.putShort(pieces[1])
                            writer.putResidue(investor, from: residues)
                            writer.putShort(pieces[2])
                            writer.putResidue(syndicate, from: residues)
                            writer.putShort(pieces[3])
                            counter.increment()
                            investor = investor == 996 ? 0 : investor + 1
                            syndicate = syndicate == 100 ? 0 : syndicate + 1
                        }
                    }
                }
            }
            precondition(
                writer.cursor - start == head.count + bodyLength, "TransactionRequest: size estimate and output disagree")
        }
    }

    /// The body's exact length: fixed bytes and newlines, plus each transaction's digits (counted
    /// by ranges of equal digit count and by whole periods of the residues, not one by one).
    static func bodyLength(firstCounter: Int, count: Int, stampDigits: Int) -> Int {
        var length = (count - 1) + count * (Self.fixedBytes + 1 + stampDigits)  // newlines; "-" + stamp
        let last = firstCounter + count
        var low = firstCounter
        while low < last {
            let digits = digitCount(low)
            var next = 1
            for _ in 0..<digits where next <= Int.max / 10 { next *= 10 }
            let high = digits >= 19 ? last : min(last, next)
            length += (high - low) * digits
            low = high
        }
        return length + residueDigitsSum(modulus: 997, from: firstCounter, to: last)
            + residueDigitsSum(modulus: 101, from: firstCounter, to: last)
    }

    /// The total digits of `counter % modulus` over `first..<last`.
    private static func residueDigitsSum(modulus: Int, from first: Int, to last: Int) -> Int {
        // Digits of 0..<r, summed: 1 each below 10, 2 below 100, 3 below 1,000.
        func prefix(_ r: Int) -> Int { min(r, 10) + max(min(r, 100) - 10, 0) * 2 + max(min(r, 1_000) - 100, 0) * 3 }
        let periods = (last - first) / modulus
        var sum = periods * prefix(modulus)
        let start = (first + periods * modulus) % modulus
        let remaining = (last - first) - periods * modulus
        let end = start + remaining
        sum += end <= modulus ? prefix(end) - prefix(start) : prefix(modulus) - prefix(start) + prefix(end - modulus)
        return sum
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

    /// The digits of 0..<997 as 4-byte records: the length, then up to three digits.
    fileprivate static let residueDigits: [UInt8] = (0..<997).flatMap { residue -> [UInt8] in
        let digits = Array(String(residue).utf8)
        return [UInt8(digits.count)] + digits + Array(repeating: 0, count: 3 - digits.count)
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

/// A non-negative counter kept as ASCII digits, incremented in place (no division per value).
struct DecimalOdometer {
    /// ASCII digits right-aligned in 24 bytes; bytes `24 - length..<24` are the number.
    private var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
    private var length: Int

    init(_ value: Int) {
        let text = Array(String(value).utf8)
        length = text.count
        withUnsafeMutableBytes(of: &digits) { bytes in
            for (offset, byte) in text.enumerated() { bytes[24 - text.count + offset] = byte }
        }
    }

    /// Adds one, carrying through nines.
    @inline(__always)
    mutating func increment() {
        let grew: Bool = withUnsafeMutableBytes(of: &digits) { bytes in
            var position = 23
            while position >= 24 - length {
                if bytes[position] != UInt8(ascii: "9") {
                    bytes[position] &+= 1
                    return false
                }
                bytes[position] = UInt8(ascii: "0")
                position -= 1
            }
            bytes[position] = UInt8(ascii: "1")
            return true
        }
        if grew { length += 1 }
    }

    @inline(__always)
    func write(into writer: inout ByteWriter) {
        withUnsafeBytes(of: digits) { bytes in
            writer.putShort(UnsafeBufferPointer(rebasing: bytes.bindMemory(to: UInt8.self)[(24 - length)...]))
        }
    }
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

    /// Copies a short run (a template piece, a stamp) with word stores instead of a `memmove`
    /// call: overlapping 8-byte (or 4-byte) stores cover 4–32 bytes exactly.
    @inline(__always)
    mutating func putShort(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress else { return }
        let count = bytes.count
        let raw = UnsafeRawPointer(source)
        let target = UnsafeMutableRawPointer(cursor)
        switch count {
        case 17...32:
            let first = raw.loadUnaligned(as: UInt64.self)
            let second = raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
            let third = raw.loadUnaligned(fromByteOffset: count - 16, as: UInt64.self)
            let fourth = raw.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
            target.storeBytes(of: first, as: UInt64.self)
            target.storeBytes(of: second, toByteOffset: 8, as: UInt64.self)
            target.storeBytes(of: third, toByteOffset: count - 16, as: UInt64.self)
            target.storeBytes(of: fourth, toByteOffset: count - 8, as: UInt64.self)
        case 8...16:
            let head = raw.loadUnaligned(as: UInt64.self)
            let tail = raw.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
            target.storeBytes(of: head, as: UInt64.self)
            target.storeBytes(of: tail, toByteOffset: count - 8, as: UInt64.self)
        case 4..<8:
            let head = raw.loadUnaligned(as: UInt32.self)
            let tail = raw.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self)
            target.storeBytes(of: head, as: UInt32.self)
            target.storeBytes(of: tail, toByteOffset: count - 4, as: UInt32.self)
        case 0..<4:
            for offset in 0..<count { cursor[offset] = source[offset] }
        default:
            cursor.update(from: source, count: count)
        }
        cursor += count
    }

    /// The digits of `residue` from a table of 4-byte records (length, then the digits).
    @inline(__always)
    mutating func putResidue(_ residue: Int, from table: UnsafeBufferPointer<UInt8>) {
        let record = residue &* 4
        let count = Int(table[record])
        for offset in 0..<count { cursor[offset] = table[record + 1 + offset] }
        cursor += count
    }
}
