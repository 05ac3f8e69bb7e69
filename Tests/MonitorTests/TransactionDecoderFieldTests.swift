import Testing

@testable import Monitor

@Suite("TransactionDecoder: fields (DESIGN.md §3 transaction fields)")
struct TransactionDecoderFieldTests {
    @Test("a full object decodes to exact values")
    func fullObject() throws {
        let decoded = try #require(
            transactions(
                #"{"id":"t1","investorId":"i1","syndicateId":"s1","amount":"12500.50","timestamp":"2026-11-27T10:00:00.123Z"}"#
            ))
        #expect(
            decoded == [
                Transaction(
                    id: "t1", investorId: "i1", syndicateId: "s1", amount: Money(cents: 1_250_050),
                    timestamp: 1_795_773_600_123)
            ])
    }

    @Test("optional fields: id absent or null, timestamp absent or null defaults to receivedAt")
    func optionalFields() throws {
        let decoded = try #require(transactions(#"{"investorId":"i1","syndicateId":"s1","amount":5}"#))
        #expect(decoded.first?.id == nil)
        #expect(decoded.first?.timestamp == receivedAt)
        let nulls = try #require(
            transactions(#"{"id":null,"investorId":"i1","syndicateId":"s1","amount":5,"timestamp":null}"#))
        #expect(nulls.first?.id == nil)
        #expect(nulls.first?.timestamp == receivedAt)
    }

    @Test(
        "amount as JSON number or decimal string",
        arguments: [
            (#""amount":12"#, Int64(1200)), (#""amount":12.5"#, 1250), (#""amount":"12.50""#, 1250),
            (#""amount":1.25e1"#, 1250), (#""amount":"\u0031\u0032""#, 1200), (#""amount" : 0.01"#, 1),
        ])
    func amounts(field: String, cents: Int64) throws {
        let decoded = try #require(transactions(object(replacing: "amount", with: field)))
        #expect(decoded.first?.amount == Money(cents: cents))
    }

    @Test(
        "invalid amounts",
        arguments: [
            (#""amount":0"#, "must be greater than 0"), (#""amount":-5"#, "must be greater than 0"),
            (#""amount":"0.00""#, "must be greater than 0"), (#""amount":1.234"#, "must have at most 2 fraction digits"),
            (#""amount":"12,50""#, "must be a decimal number such as 12 or 12.50"),
            (#""amount":"""#, "must be a decimal number such as 12 or 12.50"),
            (#""amount":" 12""#, "must be a decimal number such as 12 or 12.50"),
            (#""amount":true"#, "must be a number or a decimal string"),
            (#""amount":null"#, "must be a number or a decimal string"),
            (#""amount":[1]"#, "must be a number or a decimal string"),
            (#""amount":{"cents":1}"#, "must be a number or a decimal string"),
            (#""amount":1e400"#, "must be at most 1000000000000.00"),
            (#""amount":123456789012345678901234567890"#, "must be at most 1000000000000.00"),
            (#""amount":"92233720368547758.08""#, "must be at most 1000000000000.00"), (nil, "is required"),
        ])
    func invalidAmounts(field: String?, reason: String) {
        #expect(reasons(object(replacing: "amount", with: field), field: "amount") == [reason])
    }

    @Test(
        "invalid identifiers",
        arguments: ["investorId", "syndicateId"])
    func invalidIdentifiers(name: String) {
        #expect(reasons(object(replacing: name, with: "\"\(name)\":\"\""), field: name) == ["must not be empty"])
        #expect(reasons(object(replacing: name, with: "\"\(name)\":7"), field: name) == ["must be a string"])
        #expect(reasons(object(replacing: name, with: "\"\(name)\":null"), field: name) == ["must be a string"])
        #expect(reasons(object(replacing: name, with: nil), field: name) == ["is required"])
        let long = String(repeating: "x", count: 129)
        #expect(
            reasons(object(replacing: name, with: "\"\(name)\":\"\(long)\""), field: name) == [
                "must be at most 128 bytes"
            ])
        #expect(
            reasons(object(replacing: name, with: "\"\(name)\":\"a\\u0000b\""), field: name) == [
                "must not contain control characters"
            ])
    }

    @Test("identifier limit counts UTF-8 bytes after unescaping")
    func identifierBytes() throws {
        let exactly128 = String(repeating: "é", count: 64)  // 2 bytes each
        #expect(transactions(object(replacing: "investorId", with: "\"investorId\":\"\(exactly128)\"")) != nil)
        let escaped = String(repeating: "\\u00e9", count: 64) + "x"  // 129 bytes once decoded
        #expect(
            reasons(object(replacing: "investorId", with: "\"investorId\":\"\(escaped)\""), field: "investorId") == [
                "must be at most 128 bytes"
            ])
        let ascii128 = String(repeating: "a", count: 128)
        #expect(transactions(object(replacing: "syndicateId", with: "\"syndicateId\":\"\(ascii128)\"")) != nil)
    }

    @Test("id: string or null only")
    func identifierOfTransaction() {
        #expect(reasons(object(replacing: "id", with: #""id":5"#), field: "id") == ["must be a string or null"])
        #expect(reasons(object(replacing: "id", with: #""id":"""#), field: "id") == ["must not be empty"])
    }

    @Test(
        "timestamps: RFC 3339 with fraction and offset, or epoch milliseconds",
        arguments: [
            (#""timestamp":"2026-11-27T10:00:00.123Z""#, Int64(1_795_773_600_123)),
            (#""timestamp":"2026-11-27T12:00:00+02:00""#, 1_795_773_600_000),
            (#""timestamp":1795773600000"#, 1_795_773_600_000), (#""timestamp":-1"#, -1), (#""timestamp":0"#, 0),
        ])
    func timestamps(field: String, milliseconds: Int64) throws {
        let decoded = try #require(transactions(object(replacing: "timestamp", with: field)))
        #expect(decoded.first?.timestamp == milliseconds)
    }

    @Test(
        "invalid timestamps",
        arguments: [
            (#""timestamp":"yesterday""#, TimestampParseError.syntax.reason),
            (#""timestamp":"1764237600000""#, TimestampParseError.syntax.reason),
            (#""timestamp":"2026-02-30T00:00:00Z""#, TimestampParseError.outOfRange.reason),
            (#""timestamp":1764237600000.5"#, "must be an integer number of epoch milliseconds"),
            (#""timestamp":1.7e12"#, "must be an integer number of epoch milliseconds"),
            (#""timestamp":99999999999999999999"#, "must be an integer number of epoch milliseconds"),
            (#""timestamp":253402300800000"#, "must be between years 0000 and 9999"),
            (#""timestamp":true"#, "must be an RFC 3339 string or epoch milliseconds"),
            (#""timestamp":{}"#, "must be an RFC 3339 string or epoch milliseconds"),
        ])
    func invalidTimestamps(field: String, reason: String) {
        #expect(reasons(object(replacing: "timestamp", with: field), field: "timestamp") == [reason])
    }

    @Test("unknown fields are ignored but must be valid JSON")
    func unknownFields() throws {
        let text =
            #"{"note":{"a":[1,2.5e3,true,false,null,"x\n"]},"investorId":"i1","syndicateId":"s1","amount":1,"z":[]}"#
        #expect(try #require(transactions(text)).count == 1)
        #expect(failure(#"{"note":[1,],"investorId":"i1","syndicateId":"s1","amount":1}"#)?.code == .invalidJSON)
        #expect(failure(#"{"note":tru,"investorId":"i1","syndicateId":"s1","amount":1}"#)?.code == .invalidJSON)
    }

    @Test("a known field twice is an error, not last-wins")
    func duplicateField() {
        let text = #"{"investorId":"i1","investorId":"i2","syndicateId":"s1","amount":1}"#
        #expect(reasons(text, field: "investorId") == ["appears more than once"])
    }

    @Test("escaped keys are recognised")
    func escapedKeys() throws {
        let text = #"{"\u0069nvestorId":"i1","syndicate\u0049d":"s1","amount":1}"#
        let decoded = try #require(transactions(text))
        #expect(decoded.first?.investorId == "i1")
        #expect(decoded.first?.syndicateId == "s1")
    }

    @Test("keys that only start like a known key are unknown fields; plain and escaped spellings are one key")
    func nearKnownKeys() throws {
        let near =
            #"{"i":1,"idx":2,"investorIdx":3,"investorI":4,"amounts":5,"timestam":6,"syndicateId2":7,"a":8,"#
            + #""investorId" :"i1","syndicateId":"s1","amount":1}"#
        let decoded = try #require(transactions(near))
        #expect(decoded == [Transaction(investorId: "i1", syndicateId: "s1", amount: Money(cents: 100), timestamp: receivedAt)])
        let twice = #"{"investorId":"i1","\u0069nvestorId":"i2","syndicateId":"s1","amount":1}"#
        #expect(reasons(twice, field: "investorId") == ["appears more than once"])
        let twiceReversed = #"{"amount":1,"\u0061mount":2,"investorId":"i1","syndicateId":"s1"}"#
        #expect(reasons(twiceReversed, field: "amount") == ["appears more than once"])
    }

    @Test("identifier keys hashed from escaped and non-ASCII bytes match the keys of the built values")
    func identifierKeysFromBytes() throws {
        let decoded = try #require(
            transactions(#"{"investorId":"\u00e9t\u00e9 \"q\"","syndicateId":"s\u00fcd-\/1","amount":1}"#))
        let expected = Transaction(investorId: "été \"q\"", syndicateId: "süd-/1", amount: Money(cents: 100), timestamp: receivedAt)
        #expect(decoded == [expected])
        #expect(decoded.first?.investor.key == expected.investor.key)
        #expect(decoded.first?.syndicate.key == expected.syndicate.key)
        let plain = try #require(transactions(#"{"investorId":"été","syndicateId":"süd","amount":1}"#))
        #expect(plain.first?.investor.key == KeyedIdentifier("été").key)
    }

    @Test("every problem of an object is reported, in order")
    func allProblems() throws {
        let error = try #require(failure(#"{"investorId":"","amount":-1,"timestamp":"x"}"#))
        #expect(error.code == .invalidFields)
        #expect(error.details.map(\.field) == ["investorId", "amount", "timestamp", "syndicateId"])
        #expect(error.details.allSatisfy { $0.index == 0 && $0.line == nil })
    }
}
