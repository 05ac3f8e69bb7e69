import Monitor
import SeededRandom
import Testing

@Suite("TransactionDecoder: limits and hostile input")
struct TransactionDecoderLimitTests {
    @Test("bodies above the byte limit are refused before parsing")
    func bodyLimit() throws {
        let decoder = TransactionDecoder(limits: .init(maximumBodyBytes: 10))
        let error = try #require(failure(TransactionDecoderBatchTests.valid, format: .json, decoder: decoder))
        #expect(error.code == .payloadTooLarge)
    }

    @Test("batches above the transaction limit are refused")
    func transactionLimit() throws {
        let decoder = TransactionDecoder(limits: .init(maximumTransactions: 2))
        let three = Array(repeating: TransactionDecoderBatchTests.valid, count: 3)
        #expect(failure("[" + three.joined(separator: ",") + "]", decoder: decoder)?.code == .payloadTooLarge)
        #expect(failure(three.joined(separator: "\n"), format: .ndjson, decoder: decoder)?.code == .payloadTooLarge)
        #expect((try? decode(three.prefix(2).joined(separator: "\n"), format: .ndjson, decoder: decoder).get())?.count == 2)
    }

    @Test("error details are capped but all problems are counted")
    func detailLimit() throws {
        let decoder = TransactionDecoder(limits: .init(maximumDetails: 3))
        let bad = Array(repeating: #"{"investorId":"i","syndicateId":"s","amount":0}"#, count: 10)
        let error = try #require(failure("[" + bad.joined(separator: ",") + "]", decoder: decoder))
        #expect(error.details.count == 3)
        #expect(error.message.contains("10 of 10"))
    }

    @Test("nesting beyond the depth limit is invalid JSON, and deep input cannot overflow the stack")
    func depth() throws {
        let nested = String(repeating: "[", count: 31) + String(repeating: "]", count: 31)
        let ok = #"{"x":"# + nested + #","investorId":"i","syndicateId":"s","amount":1}"#
        #expect(transactions(ok) != nil)
        let tooDeep = #"{"x":"# + "[" + nested + "]" + #","investorId":"i","syndicateId":"s","amount":1}"#
        #expect(failure(tooDeep)?.details.first?.reason.contains("nesting deeper than 32") == true)
        let hostile = String(repeating: "[", count: 1_000_000)
        #expect(failure(hostile)?.code == .invalidJSON)
        #expect(failure(String(repeating: "{\"a\":", count: 100_000))?.code == .invalidJSON)
        #expect(failure(String(repeating: "[", count: 100_000), format: .ndjson)?.code == .invalidJSON)
    }

    @Test("huge numbers are range errors, not crashes or silent wraps")
    func hugeNumbers() {
        let digits = String(repeating: "9", count: 100_000)
        #expect(reasons(object(replacing: "amount", with: "\"amount\":\(digits)"), field: "amount") == ["must be at most 1000000000000.00"])
        #expect(
            reasons(object(replacing: "timestamp", with: "\"timestamp\":\(digits)"), field: "timestamp") == [
                "must be an integer number of epoch milliseconds"
            ])
        #expect(transactions(#"{"x":1e99999999999999999999,"investorId":"i","syndicateId":"s","amount":1}"#) != nil)
    }

    @Test("every prefix of a valid body fails cleanly or decodes")
    func prefixes() {
        let body = Array(
            #"[{"id":"t\u00e9","investorId":"i1","syndicateId":"日本","amount":"12.50","timestamp":"2026-11-27T10:00:00.5+01:00","x":[{"y":null}]},{"investorId":"i2","syndicateId":"s","amount":1e2}]"#
                .utf8)
        let decoder = TransactionDecoder()
        for length in 0...body.count {
            let prefix = Array(body.prefix(length))
            let json = decoder.decode(prefix, format: .json, receivedAt: receivedAt)
            let ndjson = decoder.decode(prefix, format: .ndjson, receivedAt: receivedAt)
            if length == body.count {
                #expect((try? json.get())?.count == 2)
            } else {
                #expect((try? json.get()) == nil, "prefix of \(length) bytes was accepted")
            }
            _ = ndjson
        }
    }

    @Test("random bytes and random mutations of valid bodies never crash")
    func randomInput() {
        var random = SeededGenerator(seed: 0xC0FFEE)
        let decoder = TransactionDecoder()
        let seed = Array(
            "[{\"id\":\"t1\",\"investorId\":\"i\\u00e91\",\"syndicateId\":\"s1\",\"amount\":\"12.50\",\"timestamp\":\"2026-11-27T10:00:00Z\"},{\"investorId\":\"i2\",\"syndicateId\":\"s2\",\"amount\":1.5e1,\"timestamp\":1764237600000,\"n\":[true,false,null,{}]}]\n"
                .utf8)
        let alphabet = Array("{}[]\":,\\u0123456789.eE+-tfnrl aZ\n\r\t".utf8) + [0x00, 0x80, 0xC3, 0xA9, 0xED, 0xF0, 0xFF]
        var accepted = 0
        for round in 0..<20_000 {
            var body: [UInt8]
            if round % 4 == 0 {
                body = (0..<Int.random(in: 0...64, using: &random)).map { _ in alphabet.randomElement(using: &random) ?? 0 }
            } else {
                body = seed
                for _ in 0..<Int.random(in: 1...4, using: &random) {
                    let position = Int.random(in: 0..<body.count, using: &random)
                    switch Int.random(in: 0...2, using: &random) {
                    case 0: body[position] = alphabet.randomElement(using: &random) ?? 0
                    case 1: body.remove(at: position)
                    default: body.insert(alphabet.randomElement(using: &random) ?? 0, at: position)
                    }
                    if body.isEmpty { break }
                }
            }
            for format in [TransactionDecoder.Format.json, .ndjson] {
                if case .success(let decoded) = decoder.decode(body, format: format, receivedAt: 0) {
                    accepted += 1
                    // Whatever is accepted obeys the field rules.
                    for transaction in decoded {
                        #expect(transaction.amount.cents > 0)
                        #expect(!transaction.investorId.isEmpty && transaction.investorId.utf8.count <= 128)
                        #expect(!transaction.syndicateId.isEmpty && transaction.syndicateId.utf8.count <= 128)
                    }
                }
            }
        }
        #expect(accepted > 0)
    }
}
