import Monitor
import Testing

/// `syndicast rank` applies the server's rules: idempotency ids, `--max-amount`, byte identity.
@Suite("Ranking job: the server's rules")
struct RankingJobRulesTests {
    /// The line of the `index`-th transaction in ``render(_:as:)``'s output.
    static func line(of index: Int, in format: RankingJob.InputFormat) -> Int {
        format == .ndjson ? index + 1 : index + 2
    }

    @Test("a repeated id with the same content counts once", arguments: RankingJob.InputFormat.allCases)
    func duplicates(format: RankingJob.InputFormat) throws {
        let transactions = [
            transaction("i1", "s1", cents: 100, id: "t1"), transaction("i2", "s1", cents: 150, id: "t2"),
            transaction("i1", "s1", cents: 100, id: "t1"), transaction("i1", "s1", cents: 100, id: "t1"),
        ]
        var job = RankingJob(format: format)
        try job.consume(Array(render(transactions, as: format).utf8))
        try job.finish()
        #expect(job.transactionCount == 2)
        #expect(job.duplicateCount == 2)
        #expect(job.top(5).map(\.investorId) == ["i2", "i1"])
        #expect(job.top(5).map(\.totalInvested) == [MoneyTotal(cents: 150), MoneyTotal(cents: 100)])
    }

    @Test("the same id with other content stops the job at its line", arguments: RankingJob.InputFormat.allCases)
    func conflicts(format: RankingJob.InputFormat) {
        let conflicting = [
            transaction("i1", "s1", cents: 101, id: "t1"), transaction("i2", "s1", cents: 100, id: "t1"),
            transaction("i1", "s2", cents: 100, id: "t1"),
        ]
        for (offset, other) in conflicting.enumerated() {
            let transactions = [transaction("i9", "s9", cents: 1, id: "t0"), transaction("i1", "s1", cents: 100, id: "t1"), other]
            #expect(
                jobError(render(transactions, as: format), format: format)
                    == TransactionFileError(
                        line: Self.line(of: 2, in: format), field: "id",
                        reason: "id \"t1\" was already used with different content"),
                "conflict \(offset)")
        }
    }

    @Test("amounts above --max-amount are refused with the line", arguments: RankingJob.InputFormat.allCases)
    func maximumAmount(format: RankingJob.InputFormat) {
        let transactions = [transaction("i1", "s1", cents: 100), transaction("i1", "s1", cents: 10_001)]
        let text = render(transactions, as: format)
        #expect(
            runJob(text, format: format, maximumAmount: Money(cents: 10_000))
                == .failure(
                    TransactionFileError(
                        line: Self.line(of: 1, in: format), field: "amount", reason: "must be at most 100.00")))
        #expect((try? runJob(text, format: format, maximumAmount: Money(cents: 10_001)).get())?.count == 1)
        // The default: one trillion; anything larger (even past Int64 cents) gets the same reason.
        let huge = render([transaction("i1", "s1", cents: 100_000_000_000_001)], as: format)
        #expect(jobError(huge, format: format)?.reason == "must be at most 1000000000000.00")
        let unrepresentable =
            format == .csv ? "investorId,syndicateId,amount\ni,s,1e30\n" : "{\"investorId\":\"i\",\"syndicateId\":\"s\",\"amount\":1e30}\n"
        #expect(
            jobError(format == .json ? "[" + unrepresentable + "]" : unrepresentable, format: format)?.reason
                == "must be at most 1000000000000.00")
    }

    @Test("event times far in the future are accepted: the job has no clock", arguments: RankingJob.InputFormat.allCases)
    func futureTimes(format: RankingJob.InputFormat) throws {
        let text: String
        switch format {
        case .csv: text = "investorId,syndicateId,amount,timestamp\ni,s,1,9999-12-31T23:59:59Z\n"
        case .json: text = "[{\"investorId\":\"i\",\"syndicateId\":\"s\",\"amount\":1,\"timestamp\":\"9999-12-31T23:59:59Z\"}]"
        case .ndjson: text = "{\"investorId\":\"i\",\"syndicateId\":\"s\",\"amount\":1,\"timestamp\":\"9999-12-31T23:59:59Z\"}\n"
        }
        #expect(try runJob(text, format: format).get().count == 1)
    }

    @Test("NFC and NFD spellings are different investors, syndicates and ids", arguments: RankingJob.InputFormat.allCases)
    func byteIdentity(format: RankingJob.InputFormat) throws {
        let composed = "\u{E9}"  // é, C3 A9
        let decomposed = "e\u{301}"  // e + combining acute, 65 CC 81
        #expect(composed == decomposed)  // Swift's String equality: canonical equivalence
        let transactions = [
            transaction(composed, "s-\(composed)", cents: 100, id: "t-\(composed)"),
            transaction(decomposed, "s-\(decomposed)", cents: 100, id: "t-\(decomposed)"),
            transaction(decomposed, "s-\(composed)", cents: 100, id: "t-\(decomposed)"),
        ]
        // The third reuses the NFD id with the NFC syndicate: a conflict, not a duplicate of the first.
        #expect(jobError(render(transactions, as: format), format: format)?.field == "id")
        let distinct = [
            transaction(composed, "s-\(composed)", cents: 100, id: "a"),
            transaction(decomposed, "s-\(decomposed)", cents: 100, id: "b"),
            transaction(decomposed, "s-\(composed)", cents: 100, id: "c"),
        ]
        var job = RankingJob(format: format)
        try job.consume(Array(render(distinct, as: format).utf8))
        try job.finish()
        #expect(job.rankings.investorCount == 2)
        let top = job.top(5)
        // Both investors, NFD (0x65…) before NFC (0xC3…) would be by bytes; NFD has 2 syndicates.
        #expect(top.count == 2)
        #expect(top.map { Array($0.investorId.utf8) } == [Array(decomposed.utf8), Array(composed.utf8)])
        #expect(top.map(\.syndicateCount) == [2, 1])
    }
}
