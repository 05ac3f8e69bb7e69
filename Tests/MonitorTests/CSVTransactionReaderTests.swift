import Monitor
import SeededRandom
import Testing

/// How a test input is cut into chunks: every parser is fed whole, byte by byte and at random.
enum Chunking: CaseIterable, CustomStringConvertible, Sendable {
    case whole
    case byteByByte
    case random

    var description: String {
        switch self {
        case .whole: return "whole"
        case .byteByByte: return "byte by byte"
        case .random: return "random boundaries"
        }
    }

    /// `bytes` cut into chunks; random cuts are reproducible through `seed`.
    func chunks(_ bytes: [UInt8], seed: UInt64 = 7) -> [[UInt8]] {
        switch self {
        case .whole:
            return [bytes]
        case .byteByByte:
            return bytes.map { [$0] }
        case .random:
            var generator = SeededGenerator(seed: seed)
            var result: [[UInt8]] = []
            var start = 0
            while start < bytes.count {
                let length = Int.random(in: 1...17, using: &generator)
                let end = min(start + length, bytes.count)
                result.append(Array(bytes[start..<end]))
                start = end
            }
            return result
        }
    }
}

/// What a reader made of one input: the transactions with their lines, then the error if any.
struct CSVOutcome {
    var transactions: [Transaction] = []
    var lines: [Int] = []
    var error: TransactionFileError?
}

/// Reads `text` as CSV in the given chunks, stopping at the first error.
func readCSV(
    _ text: String, _ chunking: Chunking = .whole, receivedAt: Int64 = 0, maximumRecordBytes: Int = 1 << 20
) -> CSVOutcome {
    var reader = CSVTransactionReader(receivedAt: receivedAt, maximumRecordBytes: maximumRecordBytes)
    var outcome = CSVOutcome()
    let collect = { (transaction: Transaction, line: Int) throws(TransactionFileError) in
        outcome.transactions.append(transaction)
        outcome.lines.append(line)
    }
    do throws(TransactionFileError) {
        for chunk in chunking.chunks(Array(text.utf8)) { try reader.consume(chunk, collect) }
        try reader.finish(collect)
    } catch {
        outcome.error = error
    }
    return outcome
}

@Suite("CSV transaction reader (RFC 4180)")
struct CSVTransactionReaderTests {
    @Test("LF and CRLF records, whatever the chunk boundaries", arguments: Chunking.allCases)
    func lineEndings(chunking: Chunking) {
        for newline in ["\n", "\r\n"] {
            let text = ["investorId,syndicateId,amount", "i1,s1,100", "i2,s2,0.5", "i1,s3,12.34", ""]
                .joined(separator: newline)
            let outcome = readCSV(text, chunking)
            #expect(outcome.error == nil)
            #expect(
                outcome.transactions == [
                    transaction("i1", "s1", cents: 10_000), transaction("i2", "s2", cents: 50),
                    transaction("i1", "s3", cents: 1_234),
                ])
            #expect(outcome.lines == [2, 3, 4])
        }
    }

    @Test("RFC 4180 §2.6–2.7: quoted commas, line breaks and doubled quotes", arguments: Chunking.allCases)
    func quoting(chunking: Chunking) {
        let text =
            "investorId,syndicateId,amount,note\r\n\"i,1\",\"s \"\"one\"\"\",\"10\",\"\"\n"
            + "i2,s2,\"1.5\",\"two\r\nlines\"\ni3,\"\",1,\n"
        let outcome = readCSV(text, chunking)
        #expect(outcome.transactions.map(\.investorId) == ["i,1", "i2"])
        #expect(outcome.transactions.map(\.syndicateId) == ["s \"one\"", "s2"])
        #expect(outcome.transactions.map(\.amount.cents) == [1_000, 150])
        // The quoted line break moves the next record to line 5.
        #expect(outcome.lines == [2, 3])
        #expect(outcome.error == TransactionFileError(line: 5, field: "syndicateId", reason: "must not be empty"))
    }

    @Test("columns in any order, optional id and timestamp, unknown columns ignored", arguments: Chunking.allCases)
    func columns(chunking: Chunking) {
        let text = """
            Timestamp,note,amount,ID,syndicateid,INVESTORID
            1764237600000,"x, y",5,t1,s1,i1
            2026-11-27T10:00:00Z,,6,,s2,i2
            ,z,7,t3,s3,i3
            """
        let outcome = readCSV(text, chunking, receivedAt: 42)
        #expect(outcome.error == nil)
        #expect(
            outcome.transactions == [
                transaction("i1", "s1", cents: 500, at: 1_764_237_600_000, id: "t1"),
                transaction("i2", "s2", cents: 600, at: 1_795_773_600_000),
                transaction("i3", "s3", cents: 700, at: 42, id: "t3"),
            ])
    }

    @Test("byte order mark, blank lines and a last record without a line break", arguments: Chunking.allCases)
    func leniencies(chunking: Chunking) {
        let text = "\u{FEFF}investorId,syndicateId,amount\n\ni1,s1,1\n\r\n\ni2,s2,2"
        let outcome = readCSV(text, chunking)
        #expect(outcome.error == nil)
        #expect(outcome.transactions.map(\.investorId) == ["i1", "i2"])
        #expect(outcome.lines == [3, 6])
    }

    @Test("identifiers keep UTF-8 split across chunks", arguments: Chunking.allCases)
    func unicode(chunking: Chunking) {
        let outcome = readCSV("investorId,syndicateId,amount\nzoë,\"シンジケート\",1\n", chunking)
        #expect(outcome.transactions.map(\.investorId) == ["zoë"])
        #expect(outcome.transactions.map(\.syndicateId) == ["シンジケート"])
    }

    @Test("bad fields name the line and the column", arguments: Chunking.allCases)
    func badFields(chunking: Chunking) {
        let cases: [(row: String, field: String?, reason: String)] = [
            ("i1,s1,0", "amount", "must be greater than 0"),
            ("i1,s1,-5", "amount", "must be greater than 0"),
            ("i1,s1,1.234", "amount", "must have at most 2 fraction digits"),
            ("i1,s1,12abc", "amount", "must be a decimal number such as 12 or 12.50"),
            ("i1,s1, 12", "amount", "must be a decimal number such as 12 or 12.50"),
            ("i1,s1,99999999999999999999", "amount", "must be at most 1000000000000.00"),
            ("i1,s1,", "amount", "is required"),
            (",s1,1", "investorId", "must not be empty"),
            ("i1,\"s\u{1}\",1", "syndicateId", "must not contain control characters"),
            ("\"i\n1\",s1,1", "investorId", "must not contain control characters"),
            ("\(String(repeating: "x", count: 129)),s1,1", "investorId", "must be at most 128 bytes"),
            ("i1,s1", nil, "expected 4 fields as in the header, found 3"),
            ("i1,s1,1,extra", nil, "expected 4 fields as in the header, found 5"),
            ("i\"1,s1,1", "investorId", "a double quote inside an unquoted field (quote the field and double the quote)"),
            ("\"i1\"x,s1,1", "investorId", "expected ',' or the end of the line after a closing quote"),
            ("i1,s1,\"1", "amount", "a quoted field is not closed before the end of the file"),
        ]
        for (row, field, reason) in cases {
            let text = "note,investorId,syndicateId,amount\n,i0,s0,1\n\"multi\nline\",i0,s0,1\nn,\(row)\nn,i9,s9,1\n"
            let outcome = readCSV(text, chunking)
            #expect(outcome.error == TransactionFileError(line: 5, field: field, reason: reason), "\(row)")
            #expect(outcome.transactions.count == 2, "\(row)")
        }
    }

    @Test("invalid UTF-8 and bad timestamps are refused", arguments: Chunking.allCases)
    func badEncodingAndTime(chunking: Chunking) {
        var bytes = Array("investorId,syndicateId,amount\ni".utf8) + [0xC3, 0x28] + Array(",s1,1\n".utf8)
        var reader = CSVTransactionReader()
        var thrown: TransactionFileError?
        do throws(TransactionFileError) {
            for chunk in chunking.chunks(bytes) { try reader.consume(chunk) { _, _ in } }
            try reader.finish { _, _ in }
        } catch { thrown = error }
        #expect(thrown == TransactionFileError(line: 2, field: "investorId", reason: "must be valid UTF-8"))

        bytes = Array("investorId,syndicateId,amount,timestamp\ni1,s1,1,2026-02-30T00:00:00Z\n".utf8)
        let outcome = readCSV(String(decoding: bytes, as: UTF8.self), chunking)
        #expect(outcome.error == TransactionFileError(line: 2, field: "timestamp", reason: "is not a valid date and time"))
        let huge = readCSV("investorId,syndicateId,amount,timestamp\ni1,s1,1,99999999999999999999\n", chunking)
        #expect(huge.error?.field == "timestamp")
    }

    @Test("header errors: missing and repeated columns, empty file", arguments: Chunking.allCases)
    func headerErrors(chunking: Chunking) {
        #expect(
            readCSV("investorId,amount\ni1,1\n", chunking).error
                == TransactionFileError(
                    line: 1, field: "header",
                    reason: "missing column syndicateId (expected investorId,syndicateId,amount and optionally id,timestamp)"))
        #expect(
            readCSV("investorId,syndicateId,amount,amount\n", chunking).error
                == TransactionFileError(
                    line: 1, field: "header", reason: "column amount appears more than once"))
        #expect(readCSV("", chunking).error?.line == nil)
        #expect(readCSV("\n\n", chunking).error?.reason.hasPrefix("the file is empty") == true)
        // A header alone is a valid file with no transactions.
        let headerOnly = readCSV("investorId,syndicateId,amount", chunking)
        #expect(headerOnly.error == nil && headerOnly.transactions.isEmpty)
    }

    @Test("a record longer than the bound is refused, so memory stays bounded", arguments: Chunking.allCases)
    func recordBound(chunking: Chunking) {
        let long = "investorId,syndicateId,amount\ni1,s1,1\n\"" + String(repeating: "a", count: 300)
        let outcome = readCSV(long, chunking, maximumRecordBytes: 64)
        #expect(outcome.error?.line == 3)
        #expect(outcome.error?.reason.hasPrefix("record longer than 64 bytes") == true)
        #expect(outcome.transactions.count == 1)
    }

    @Test("many records in one buffer equal the same records read one by one")
    func manyRecords() {
        var generator = SeededGenerator(seed: 11)
        var rows = ["amount,syndicateId,investorId"]
        var expected: [Transaction] = []
        for index in 0..<500 {
            let cents = Int64.random(in: 1...1_000_000, using: &generator)
            let investor = "inv \"\(index % 37)\""
            let syndicate = index % 3 == 0 ? "s,\(index % 11)" : "s\(index % 11)"
            let quotedSyndicate = syndicate.contains(",") ? "\"\(syndicate)\"" : syndicate
            rows.append("\(Money(cents: cents)),\(quotedSyndicate),\"\(investor.replacing("\"", with: "\"\""))\"")
            expected.append(transaction(investor, syndicate, cents: cents))
        }
        let text = rows.joined(separator: "\r\n")
        for chunking in Chunking.allCases {
            let outcome = readCSV(text, chunking)
            #expect(outcome.error == nil)
            #expect(outcome.transactions == expected)
            #expect(outcome.lines == Array(2...501))
        }
    }

    @Test("input after finish is refused")
    func afterFinish() throws {
        var reader = CSVTransactionReader()
        try reader.consume(Array("investorId,syndicateId,amount\n".utf8)) { _, _ in }
        try reader.finish { _, _ in }
        #expect(throws: TransactionFileError.self) { try reader.consume(Array("i,s,1\n".utf8)) { _, _ in } }
        #expect(reader.transactionCount == 0)
    }
}
