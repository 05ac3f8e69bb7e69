import Monitor
import Testing

@Suite("TransactionDecoder: batches, NDJSON and strings")
struct TransactionDecoderBatchTests {
    static let valid = #"{"investorId":"i1","syndicateId":"s1","amount":1}"#

    @Test("an array of objects decodes in order; an empty array is an empty batch")
    func array() throws {
        let text =
            "[ {\"investorId\":\"a\",\"syndicateId\":\"s\",\"amount\":1} ,\n"
            + "{\"investorId\":\"b\",\"syndicateId\":\"s\",\"amount\":2} ]"
        let decoded = try #require(transactions(text))
        #expect(decoded.map(\.investorId) == ["a", "b"])
        #expect(try #require(transactions(" [ ] ")).isEmpty)
    }

    @Test("a batch is atomic: one bad element fails all and every bad element is listed with its index")
    func atomicArray() throws {
        let text =
            "[\(Self.valid),{\"investorId\":\"i1\",\"syndicateId\":\"s1\",\"amount\":0},\(Self.valid),7,"
            + "{\"syndicateId\":\"s1\",\"amount\":1}]"
        let error = try #require(failure(text))
        #expect(error.code == .invalidFields)
        #expect(error.details.map(\.index) == [1, 3, 4])
        #expect(error.details.map(\.field) == ["amount", "", "investorId"])
        #expect(error.details[1].reason == "must be a JSON object")
        #expect(error.message.contains("3 of 5"))
    }

    @Test("NDJSON: one object per line, blank lines and CRLF allowed, details carry line numbers")
    func ndjson() throws {
        let text = "\n\(Self.valid)\r\n   \n\t\(Self.valid)\n\n"
        #expect(try #require(transactions(text, format: .ndjson)).count == 2)
        let bad = "\(Self.valid)\n\n{\"investorId\":\"i1\",\"syndicateId\":\"s1\",\"amount\":\"x\"}\n\(Self.valid)\n[1]"
        let error = try #require(failure(bad, format: .ndjson))
        #expect(error.code == .invalidFields)
        #expect(error.details.map(\.index) == [1, 3])
        #expect(error.details.map(\.line) == [3, 5])
        #expect(try #require(transactions("", format: .ndjson)).isEmpty)
    }

    @Test("NDJSON: invalid JSON on one line is reported and the other lines are still checked")
    func ndjsonSyntax() throws {
        let text =
            "{\"investorId\":\"i1\",\n\"syndicateId\":\"s1\",\"amount\":1}\n\(Self.valid)\n{\"investorId\":5,"
            + "\"syndicateId\":\"s\",\"amount\":1}\n\(Self.valid) \(Self.valid)"
        let error = try #require(failure(text, format: .ndjson))
        #expect(error.code == .invalidJSON)
        #expect(error.details.map(\.line) == [1, 2, 4, 5])
        #expect(error.details[2].field == "investorId")
        #expect(error.message.hasPrefix("3 of 5 lines"))
    }

    @Test("JSON syntax errors stop at the first one and give the byte offset")
    func syntaxErrors() throws {
        let cases = [
            "", "   ", "nul", "{", "[", "[{}", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "[1,]", "{'a':1}",
            "\(Self.valid) x", "\(Self.valid)\(Self.valid)", "[\(Self.valid)]]", "\"text\"", "12", "{\"a\":01}",
            "{\"a\":\"\u{1}\"}", "{\"a\":\"\\x\"}", "{\"a\":-}", "{\"a\":1.}", "{\"a\":1e}", "{\"a\" 1}",
        ]
        for text in cases {
            let error = failure(text)
            #expect(error?.code == .invalidJSON, "\(text.debugDescription)")
            #expect(error?.details.last?.reason.contains(" at byte ") == true, "\(text.debugDescription)")
        }
        #expect(failure("{\"a\" 1}")?.details.first?.reason == "unexpected '1', expected ':' at byte 5")
    }

    @Test("unicode escapes: BMP, surrogate pairs, and every invalid form")
    func unicodeEscapes() throws {
        let decoded = try #require(
            transactions(#"{"investorId":"\u00e9\ud83d\ude00\"\\\/","syndicateId":"日本","amount":1}"#))
        #expect(decoded.first?.investorId == "é😀\"\\/")
        #expect(decoded.first?.syndicateId == "日本")
        // Control characters decode correctly but are refused in identifiers.
        #expect(
            reasons(#"{"investorId":"a\n\b\f\r\t","syndicateId":"s","amount":1}"#, field: "investorId") == [
                "must not contain control characters"
            ])
        for bad in [#"\ud83d"#, #"\ude00"#, #"\ud83d\u0041"#, #"\ud83dx"#, #"\u12"#, #"\u12g4"#, #"\U0041"#] {
            let text = #"{"investorId":""# + bad + #"","syndicateId":"s","amount":1}"#
            #expect(failure(text)?.code == .invalidJSON, "\(bad)")
        }
    }

    @Test("raw bytes must be UTF-8 (RFC 3629): overlong, surrogate and truncated forms are invalid JSON")
    func invalidUTF8() {
        let prefix = Array(#"{"investorId":""#.utf8)
        let suffix = Array(#"","syndicateId":"s","amount":1}"#.utf8)
        for bad: [UInt8] in [[0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xE2, 0x82], [0xF4, 0x90, 0x80, 0x80], [0xFF], [0x80]] {
            let body = prefix + bad + suffix
            let result = TransactionDecoder().decode(body, format: .json, receivedAt: 0)
            guard case .failure(let error) = result else {
                Issue.record("accepted \(bad)")
                continue
            }
            #expect(error.code == .invalidJSON)
        }
        let good = prefix + [0xF0, 0x9F, 0x98, 0x80] + suffix
        #expect((try? TransactionDecoder().decode(good, format: .json, receivedAt: 0).get())?.first?.investorId == "😀")
    }

    @Test("a UTF-8 byte order mark is ignored (RFC 8259 §8.1)")
    func byteOrderMark() {
        let body: [UInt8] = [0xEF, 0xBB, 0xBF] + Array(Self.valid.utf8)
        #expect((try? TransactionDecoder().decode(body, format: .json, receivedAt: 0).get())?.count == 1)
        #expect((try? TransactionDecoder().decode(body, format: .ndjson, receivedAt: 0).get())?.count == 1)
    }

    @Test("special bytes are found at every offset of a string (word-at-a-time scanning)")
    func specialBytesAtEveryOffset() throws {
        for position in 0..<20 {
            let head = String(repeating: "a", count: position)
            let tail = String(repeating: "b", count: 20 - position)
            let escaped = try #require(
                transactions(#"{"investorId":""# + head + #"\"\\"# + tail + #"","syndicateId":"s","amount":1}"#))
            #expect(escaped.first?.investorId == head + "\"\\" + tail)
            let unicode = try #require(transactions(#"{"investorId":""# + head + "é" + tail + #"","syndicateId":"s","amount":1}"#))
            #expect(unicode.first?.investorId == head + "é" + tail)
            #expect(failure(#"{"investorId":""# + head + "\u{1}" + tail + #"","syndicateId":"s","amount":1}"#)?.code == .invalidJSON)
        }
    }

    @Test("NDJSON line ends are found at every offset (word-at-a-time scanning)")
    func newlineAtEveryOffset() throws {
        let lines = (0..<40).map { index in
            #"{"investorId":"i\#(index)","syndicateId":"s","amount":1}"# + String(repeating: " ", count: index % 9)
        }
        let decoded = try #require(transactions(lines.joined(separator: "\n"), format: .ndjson))
        #expect(decoded.map(\.investorId) == (0..<40).map { "i\($0)" })
        let error = try #require(failure(lines.joined(separator: "\n") + "\n{", format: .ndjson))
        #expect(error.details.map(\.line) == [41])
    }
}
