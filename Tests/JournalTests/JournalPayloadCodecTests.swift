import Monitor
import SeededRandom
import Testing

@testable import Journal

@Suite("JournalPayloadCodec: format and round trip")
struct JournalPayloadCodecTests {
    /// One transaction with an id and one message, byte for byte as the format comment describes.
    static let goldenEntries: [JournalEntry] = [
        .transactions([
            Transaction(id: "t1", investorId: "i", syndicateId: "s", amount: Money(cents: 12_500), timestamp: 1_000)
        ]),
        .message(topic: "o", data: Array("{}".utf8)),
    ]
    static let goldenBytes: [UInt8] = [
        0x02,  // format version
        0x02,  // two entries
        0x01, 0x01,  // transactions tag, one transaction
        0x01,  // flags: id present
        0x00, 0x00, 0x02, 0x74, 0x31,  // id: no previous id to share with, middle "t1"
        0x01, 0x69, 0x01, 0x73,  // investorId "i", syndicateId "s"
        0xA8, 0xC3, 0x01,  // amount 12500 cents, zigzag 25000
        0xD0, 0x0F,  // timestamp 1000 ms (delta from 0), zigzag 2000
        0x02, 0x01, 0x6F, 0x02, 0x7B, 0x7D,  // message tag, topic "o", data "{}"
    ]
    /// The same entries in format version 1 (plain id, absolute timestamp), as older builds wrote them.
    static let goldenVersion1Bytes: [UInt8] = [
        0x01, 0x02, 0x01, 0x01,
        0x01, 0x02, 0x74, 0x31,  // flags: id present; id "t1"
        0x01, 0x69, 0x01, 0x73, 0xA8, 0xC3, 0x01, 0xD0, 0x0F,
        0x02, 0x01, 0x6F, 0x02, 0x7B, 0x7D,
    ]

    @Test("encodes the documented layout byte for byte")
    func goldenEncoding() throws {
        #expect(JournalPayloadCodec.encode(Self.goldenEntries) == Self.goldenBytes)
        #expect(try JournalPayloadCodec.decode(Self.goldenBytes) == Self.goldenEntries)
    }

    @Test("payloads in format version 1 still decode")
    func version1Decodes() throws {
        #expect(try JournalPayloadCodec.decode(Self.goldenVersion1Bytes) == Self.goldenEntries)
        let withoutIdentifier: [UInt8] = [0x01, 0x01, 0x01, 0x01, 0x00, 0x00, 0x02, 0xC3, 0xA9, 0x01, 0x7F]
        #expect(
            try JournalPayloadCodec.decode(withoutIdentifier) == [
                .transactions([Transaction(investorId: "", syndicateId: "é", amount: Money(cents: -1), timestamp: -64)])
            ])
    }

    @Test("an id shares its prefix and suffix with the previous id; a timestamp is a delta from the previous one")
    func goldenSharedEnds() throws {
        let entries: [JournalEntry] = [
            .transactions([
                Transaction(id: "order-0041-x", investorId: "i", syndicateId: "s", amount: Money(cents: 1), timestamp: 1_000),
                Transaction(investorId: "i", syndicateId: "s", amount: Money(cents: 1), timestamp: 999),
                Transaction(id: "order-0042-x", investorId: "i", syndicateId: "s", amount: Money(cents: 1), timestamp: 999),
            ])
        ]
        let expected: [UInt8] =
            [0x02, 0x01, 0x01, 0x03]
            + [0x01, 0x00, 0x00, 0x0C] + Array("order-0041-x".utf8) + [0x01, 0x69, 0x01, 0x73, 0x02, 0xD0, 0x0F]
            // no id: the next id is still coded against "order-0041-x"; timestamp delta −1
            + [0x00, 0x01, 0x69, 0x01, 0x73, 0x02, 0x01]
            // prefix "order-004", suffix "-x", middle "2"; timestamp delta 0
            + [0x01, 0x09, 0x02, 0x01, 0x32, 0x01, 0x69, 0x01, 0x73, 0x02, 0x00]
        #expect(JournalPayloadCodec.encode(entries) == expected)
        #expect(JournalPayloadCodec.encodedSize(of: entries) == expected.count)
        #expect(try JournalPayloadCodec.decode(expected) == entries)
    }

    @Test("the next entry codes its first id and timestamp from scratch")
    func entriesStartAfresh() throws {
        let first = Transaction(id: "abc", investorId: "i", syndicateId: "s", amount: Money(cents: 1), timestamp: 5)
        let bytes = JournalPayloadCodec.encode([.transactions([first]), .transactions([first])])
        let entry: [UInt8] = [0x01, 0x01, 0x01, 0x00, 0x00, 0x03, 0x61, 0x62, 0x63, 0x01, 0x69, 0x01, 0x73, 0x02, 0x0A]
        #expect(bytes == [0x02, 0x02] + entry + entry)
    }

    @Test("sequential ids shrink to a few bytes; a random UUID costs two bytes more than a plain string")
    func sizes() {
        let sequential = (0..<1_000).map { sampleTransaction($0) }
        let version1Size = sequential.reduce(0) { size, transaction in
            size + 1 + JournalPayloadCodec.stringSize(transaction.id ?? "")
                + JournalPayloadCodec.stringSize(transaction.investorId) + JournalPayloadCodec.stringSize(transaction.syndicateId)
                + JournalPayloadCodec.varintSize(JournalPayloadCodec.zigzag(transaction.amount.cents))
                + JournalPayloadCodec.varintSize(JournalPayloadCodec.zigzag(transaction.timestamp))
        }
        let version2Size = JournalPayloadCodec.encodedSize(of: [.transactions(sequential)]) - 4
        #expect(version2Size * 10 < version1Size * 7, "\(version2Size) against \(version1Size) bytes")
        var generator = SeededGenerator(seed: 9)
        let random = (0..<100).map { number in
            Transaction(
                id: (0..<36).map { _ in String(UInt8.random(in: 0...15, using: &generator), radix: 16) }.joined(),
                investorId: "i", syndicateId: "s", amount: Money(cents: 1), timestamp: 0)
        }
        // Hex digits share a leading or trailing byte 1 time in 16: at most 3 bytes more than 37.
        let randomSize = JournalPayloadCodec.encodedSize(of: [.transactions(random)]) - 3
        #expect(randomSize <= 100 * (1 + 40 + 2 + 2 + 1 + 1))
        #expect(randomSize >= 100 * (1 + 39 + 2 + 2 + 1 + 1) - 100)
    }

    @Test("an empty group is a version byte and a zero count")
    func emptyGroup() throws {
        #expect(JournalPayloadCodec.encode([]) == [0x02, 0x00])
        #expect(try JournalPayloadCodec.decode([0x02, 0x00]) == [])
        #expect(try JournalPayloadCodec.decode([0x01, 0x00]) == [])
    }

    @Test(
        "varints of every length and both zigzag edges round trip",
        arguments: [
            Int64.min, Int64.min + 1, -1_000_000_000_000, -65, -64, -1, 0, 1, 63, 64, 127, 128, 16_383, 16_384,
            1_795_773_600_000, Int64.max - 1, Int64.max,
        ])
    func numberEdges(value: Int64) throws {
        #expect(JournalPayloadCodec.unzigzag(JournalPayloadCodec.zigzag(value)) == value)
        let entries: [JournalEntry] = [
            .transactions([Transaction(investorId: "i", syndicateId: "s", amount: Money(cents: value), timestamp: value)])
        ]
        let bytes = JournalPayloadCodec.encode(entries)
        #expect(bytes.count == JournalPayloadCodec.encodedSize(of: entries))
        #expect(try JournalPayloadCodec.decode(bytes) == entries)
    }

    @Test("random groups round trip exactly and their size is predicted", arguments: [1, 2, 3, 4, 5] as [UInt64])
    func randomRoundTrip(seed: UInt64) throws {
        var generator = SeededGenerator(seed: seed)
        for _ in 0..<200 {
            let entries = (0..<Int.random(in: 0...8, using: &generator)).map { _ in randomEntry(&generator) }
            let bytes = JournalPayloadCodec.encode(entries)
            #expect(bytes.count == JournalPayloadCodec.encodedSize(of: entries))
            let decoded = try JournalPayloadCodec.decode(bytes)
            #expect(decoded == entries)
        }
    }

    @Test("unicode strings and long strings keep every scalar")
    func unicodeAndLongStrings() throws {
        let long = String(repeating: "中文😀", count: 10_000)
        let entries: [JournalEntry] = [
            .transactions([
                Transaction(
                    id: "e\u{301}🇫🇷", investorId: long, syndicateId: "\u{0}nul", amount: Money(cents: 1), timestamp: 0
                )
            ]),
            .message(topic: long, data: []),
        ]
        let decoded = try JournalPayloadCodec.decode(JournalPayloadCodec.encode(entries))
        #expect(decoded == entries)
        guard case .transactions(let transactions) = decoded.first else {
            Issue.record("expected transactions first")
            return
        }
        // Compare the bytes too: String equality is canonical equivalence, the journal must be exact.
        #expect(Array(transactions[0].id?.utf8 ?? "".utf8) == Array("e\u{301}🇫🇷".utf8))
        #expect(transactions[0].investorId.utf8.count == long.utf8.count)
    }
}
