import Monitor
import SeededRandom
import Testing

/// Runs a job over `text` cut by `chunking`; the ranking, or the first error.
func runJob(
    _ text: String, format: RankingJob.InputFormat, top: Int = 5, _ chunking: Chunking = .whole, seed: UInt64 = 7,
    maximumAmount: Money = TransactionDecoder.Limits.defaultMaximumAmount
) -> Result<[RankingEntry], TransactionFileError> {
    var job = RankingJob(format: format, topCount: top, maximumAmount: maximumAmount)
    do throws(TransactionFileError) {
        for chunk in chunking.chunks(Array(text.utf8), seed: seed) { try job.consume(chunk) }
        try job.finish()
    } catch {
        return .failure(error)
    }
    return .success(job.top(top))
}

/// The error of a job that must fail, or `nil`.
func jobError(_ text: String, format: RankingJob.InputFormat, _ chunking: Chunking = .whole) -> TransactionFileError? {
    if case .failure(let error) = runJob(text, format: format, chunking) { return error }
    return nil
}

/// Random transactions with few investors and syndicates, so that counts and totals tie often.
func randomTransactions(count: Int, seed: UInt64) -> [Transaction] {
    var generator = SeededGenerator(seed: seed)
    return (0..<count).map { _ in
        transaction(
            "i\(Int.random(in: 0..<40, using: &generator))", "s\(Int.random(in: 0..<12, using: &generator))",
            cents: [100, 250, 1_000, 99][Int.random(in: 0..<4, using: &generator)])
    }
}

/// `transactions` written in each input format.
/// (With ids only when the first transaction has one; then every one needs an id.)
func render(_ transactions: [Transaction], as format: RankingJob.InputFormat) -> String {
    func object(_ transaction: Transaction) -> String {
        "{" + (transaction.id.map { "\"id\":\"\($0)\"," } ?? "")
            + "\"investorId\":\"\(transaction.investorId)\",\"syndicateId\":\"\(transaction.syndicateId)\","
            + "\"amount\":\"\(transaction.amount)\"}"
    }
    switch format {
    case .csv where transactions.first?.id != nil:
        return "id,syndicateId,investorId,amount\r\n"
            + transactions.map { "\($0.id ?? ""),\"\($0.syndicateId)\",\($0.investorId),\($0.amount)\r\n" }.joined()
    case .csv:
        return "syndicateId,investorId,amount\r\n"
            + transactions.map { "\"\($0.syndicateId)\",\($0.investorId),\($0.amount)\r\n" }.joined()
    case .json:
        return "[\n" + transactions.map { "  " + object($0) }.joined(separator: ",\n") + "\n]\n"
    case .ndjson:
        return transactions.map { object($0) + "\n" }.joined()
    }
}

@Suite("Ranking job (seed task 1 as a batch over CSV, JSON and NDJSON)")
struct RankingJobTests {
    @Test("every format and chunking equals the naive reference", arguments: RankingJob.InputFormat.allCases)
    func matchesReference(format: RankingJob.InputFormat) throws {
        for seed in [UInt64(1), 2, 3] {
            let transactions = randomTransactions(count: 400, seed: seed)
            var reference = RankingsReference()
            for transaction in transactions { reference.apply(transaction) }
            let text = render(transactions, as: format)
            for chunking in Chunking.allCases {
                for top in [1, 5, 50] {
                    let ranking = try runJob(text, format: format, top: top, chunking, seed: seed).get()
                    #expect(ranking == reference.top(top), "\(format) \(chunking) top \(top)")
                }
            }
        }
    }

    @Test("seed task 1 order: shared counts kept, highest first, then total, then id")
    func order() throws {
        let text = """
            investorId,syndicateId,amount
            b,s1,5
            a,s1,5
            c,s1,9
            a,s2,1
            d,s1,1
            d,s2,1
            d,s3,1
            """
        let ranking = try runJob(text, format: .csv, top: 5).get()
        #expect(ranking.map(\.investorId) == ["d", "a", "c", "b"])
        #expect(ranking.map(\.syndicateCount) == [3, 2, 1, 1])
        #expect(ranking.map(\.totalInvested.description) == ["3.00", "6.00", "9.00", "5.00"])
        #expect(ranking.map(\.rank) == [1, 2, 3, 4])
    }

    @Test("NDJSON errors name the file's line across chunks and blank lines", arguments: Chunking.allCases)
    func ndjsonLines(chunking: Chunking) {
        let good = "{\"investorId\":\"i1\",\"syndicateId\":\"s1\",\"amount\":1}\n"
        let text = String(repeating: good + "\n", count: 30) + "{\"investorId\":\"i2\",\"syndicateId\":\"s1\",\"amount\":0}\n"
        #expect(
            jobError(text, format: .ndjson, chunking)
                == TransactionFileError(
                    line: 61, field: "amount", reason: "must be greater than 0"))
        let broken = good + good + "{\"investorId\":\"i2\" \"syndicateId\":\"s1\",\"amount\":1}\n" + good
        #expect(
            jobError(broken, format: .ndjson, chunking)
                == TransactionFileError(
                    line: 3, reason: "unexpected '\"', expected ',' or '}' (column 20)"))
        // The last line needs no line break.
        #expect((try? runJob(good + good.dropLast(), format: .ndjson, chunking).get())?.first?.totalInvested == MoneyTotal(cents: 200))
    }

    @Test("JSON array errors name the line and column", arguments: Chunking.allCases)
    func jsonLines(chunking: Chunking) {
        let element = "{\"investorId\":\"i1\",\"syndicateId\":\"s1\",\"amount\":1}"
        let bad = "{\"investorId\":\"i1\",\"syndicateId\":\"s1\",\"amount\":1.001}"
        #expect(
            jobError("[\n\(element),\n\n  \(bad)\n]", format: .json, chunking)
                == TransactionFileError(
                    line: 4, field: "amount", reason: "must have at most 2 fraction digits"))
        #expect(
            jobError("[\(element),\n {\"investorId\" 1}]", format: .json, chunking)
                == TransactionFileError(
                    line: 2, reason: "unexpected '1', expected ':' (column 16)"))
        #expect(jobError("[\(element),]", format: .json, chunking)?.reason == "expected a value in the JSON array")
        #expect(jobError("[\(element)", format: .json, chunking)?.reason == "unexpected end of the file inside the JSON value")
        #expect(jobError("[\(element)] x", format: .json, chunking)?.reason == "unexpected data after the end of the JSON value")
        #expect(jobError("\"no\"", format: .json, chunking)?.reason == "expected a JSON array or object")
        #expect(jobError("  ", format: .json, chunking)?.line == nil)
        #expect(jobError("[\(element),7]", format: .json, chunking)?.reason == "must be a JSON object")
    }

    @Test("JSON: empty array, one object, strings holding brackets, a byte order mark", arguments: Chunking.allCases)
    func jsonShapes(chunking: Chunking) throws {
        #expect(try runJob(" [ ] \n", format: .json, chunking).get().isEmpty)
        let single = "\u{FEFF}{\"investorId\":\"i]}\\\"\",\"syndicateId\":\"s1\",\"amount\":\"2.50\"}\n"
        let ranking = try runJob(single, format: .json, chunking).get()
        #expect(ranking.map(\.investorId) == ["i]}\""])
        #expect(ranking.map(\.totalInvested) == [MoneyTotal(cents: 250)])
        let nested = "[{\"investorId\":\"i1\",\"extra\":[{\"a\":[1,2]},\",\"],\"syndicateId\":\"s1\",\"amount\":3}]"
        #expect(try runJob(nested, format: .json, chunking).get().map(\.totalInvested) == [MoneyTotal(cents: 300)])
    }

    @Test("totals past Int64.max rank exactly (with a --max-amount that allows such amounts)", arguments: RankingJob.InputFormat.allCases)
    func largeTotals(format: RankingJob.InputFormat) throws {
        let big = Int64.max / 2 + 1
        let transactions = [
            transaction("i0", "s1", cents: 5), transaction("i1", "s1", cents: big), transaction("i1", "s2", cents: big),
        ]
        var job = RankingJob(format: format, maximumAmount: Money(cents: .max))
        try job.consume(Array(render(transactions, as: format).utf8))
        try job.finish()
        #expect(job.top(2).map(\.investorId) == ["i1", "i0"])
        #expect(job.top(1).first?.totalInvested.description == "92233720368547758.08")
    }

    @Test("bounded memory: an over-long NDJSON line or JSON element is refused")
    func bounds() {
        var job = RankingJob(format: .ndjson, maximumRecordBytes: 100)
        #expect(throws: TransactionFileError.self) { try job.consume(Array(repeating: UInt8(ascii: " "), count: 200)) }
        var array = RankingJob(format: .json, maximumRecordBytes: 100)
        let element = "[{\"investorId\":\"" + String(repeating: "x", count: 200) + "\"}]"
        #expect(throws: TransactionFileError.self) {
            for byte in element.utf8 { try array.consume([byte]) }
        }
    }

    @Test("the format follows the file extension")
    func extensions() {
        #expect(RankingJob.InputFormat(path: "data/big.CSV") == .csv)
        #expect(RankingJob.InputFormat(path: "a.json") == .json)
        #expect(RankingJob.InputFormat(path: "a.ndjson") == .ndjson)
        #expect(RankingJob.InputFormat(path: "a.jsonl") == .ndjson)
        #expect(RankingJob.InputFormat(path: "a.txt") == nil)
        #expect(RankingJob.InputFormat(path: "dir.csv/file") == nil)
    }

    @Test("the job counts what it applied and refuses input after finish")
    func lifecycle() throws {
        var job = RankingJob(format: .csv, topCount: 3)
        try job.consume(Array("investorId,syndicateId,amount\ni1,s1,1\ni2,s1,2\n".utf8))
        try job.finish()
        #expect(job.transactionCount == 2)
        #expect(job.isFinished)
        #expect(job.rankings.investorCount == 2)
        #expect(throws: TransactionFileError.self) { try job.consume(Array("i3,s1,1\n".utf8)) }
    }
}
