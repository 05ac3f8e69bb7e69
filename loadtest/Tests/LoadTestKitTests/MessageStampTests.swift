import Testing

@testable import LoadTestKit

@Suite("Message stamps: found without decoding JSON")
struct MessageStampTests {
    static func alert(rule: String = "amount_threshold", transactionId: String) -> [UInt8] {
        Array(
            (#"{"type":"alert","seq":121,"alert":{"id":"a1","rule":"\#(rule)","syndicateId":"s1","investorId":"i7","#
                + #""transactionId":"\#(transactionId)","amount":"25.00","threshold":"1.00","at":"2026-01-01T00:00:00Z"}}"#).utf8)
    }

    @Test("an amount alert for one of our transactions yields its counter and send time")
    func alertStamp() {
        let stamp = MessageStamp(counter: 4_711, sentAt: 123_456_789_012)
        #expect(stamp.transactionId == "lt-4711-123456789012")
        #expect(MessageStamp.parseAlert(Self.alert(transactionId: stamp.transactionId)) == stamp)
    }

    @Test("other messages yield nothing")
    func otherMessages() {
        #expect(MessageStamp.parseAlert(Self.alert(rule: "syndicate_spike", transactionId: "lt-1-2")) == nil)
        #expect(MessageStamp.parseAlert(Self.alert(transactionId: "t9")) == nil)
        #expect(MessageStamp.parseAlert(Self.alert(transactionId: "lt-1-")) == nil)
        #expect(MessageStamp.parseAlert(Self.alert(transactionId: "lt-1-2x")) == nil)
        #expect(MessageStamp.parseAlert(Self.alert(transactionId: "lt-1-99999999999999999999")) == nil)
        #expect(MessageStamp.parseAlert(Array(#"{"type":"snapshot","seq":1,"alerts":[{"transactionId":"lt-1-2"}]}"#.utf8)) == nil)
        #expect(MessageStamp.parseAlert(Array(#"{"type":"hello","epoch":"e","seq":0}"#.utf8)) == nil)
        #expect(MessageStamp.parseAlert([]) == nil)
    }

    @Test("every prefix of an alert cut before the id ends yields nothing, never a bad read")
    func truncated() throws {
        let bytes = Self.alert(transactionId: "lt-12-34")
        let text = String(decoding: bytes, as: UTF8.self)
        let range = try #require(text.range(of: #""transactionId":"lt-12-34""#))
        let end = text.utf8.distance(from: text.startIndex, to: range.upperBound)
        for length in 0..<end {
            #expect(MessageStamp.parseAlert(Array(bytes.prefix(length))) == nil)
        }
        #expect(MessageStamp.parseAlert(Array(bytes.prefix(end))) == MessageStamp(counter: 12, sentAt: 34))
    }

    @Test("broadcast messages have the requested size and round-trip", arguments: [64, 128, 1_000])
    func broadcastRoundTrip(size: Int) {
        let stamp = MessageStamp(counter: 99, sentAt: 1_700_000_000_000_000_000)
        let message = stamp.broadcastMessage(size: size)
        #expect(message.count == size)
        #expect(MessageStamp.parseBroadcast(message) == stamp)
        #expect(message.last == UInt8(ascii: "}"))
    }

    @Test("malformed broadcast messages yield nothing")
    func broadcastMalformed() {
        #expect(MessageStamp.parseBroadcast(Array(#"{"counter":1}"#.utf8)) == nil)
        #expect(MessageStamp.parseBroadcast(Array(#"{"counter":,"sentAt":1}"#.utf8)) == nil)
        #expect(MessageStamp.parseBroadcast(Array(#"{"count":1,"sentAt":1}"#.utf8)) == nil)
        #expect(MessageStamp.parseBroadcast(Array(#"{"counter":1,"sentAt":1}"#.utf8)) == MessageStamp(counter: 1, sentAt: 1))
    }

    @Test("the transaction request carries the stamp and valid framing")
    func transactionRequest() throws {
        let single = String(decoding: TransactionRequest.bytes(host: "127.0.0.1:1", firstCounter: 5, count: 1, sentAt: 77), as: UTF8.self)
        #expect(single.contains(#""id":"lt-5-77""#))
        #expect(single.contains("Content-Type: application/json\r\n"))
        let batch = String(decoding: TransactionRequest.bytes(host: "h:1", firstCounter: 5, count: 3, sentAt: 77), as: UTF8.self)
        #expect(batch.contains("application/x-ndjson"))
        let body = try #require(batch.split(separator: "\r\n\r\n").last)
        #expect(body.split(separator: "\n").count == 3)
        #expect(batch.contains("Content-Length: \(body.utf8.count)\r\n"))
        #expect(body.contains(#""id":"lt-7-77""#))
        // The byte writer produces exactly the readable JSON form, digits of every length included.
        let request = TransactionRequest.bytes(host: "h:1", firstCounter: 0, count: 1_001, sentAt: UInt64.max)
        let large = String(decoding: request, as: UTF8.self)
        let lines = try #require(large.split(separator: "\r\n\r\n").last).split(separator: "\n")
        #expect(lines.count == 1_001)
        for (counter, line) in lines.enumerated() {
            #expect(String(line) == TransactionRequest.transactionJSON(counter: counter, sentAt: UInt64.max))
        }
    }

    @Test(
        "requests from any counter match the readable form: digit-count changes and residue wrap-around",
        arguments: [(9_990, 2_100), (99_999_990, 20), (996, 1), (1_000_000_000_000 - 3, 5), (123_456, 997 * 2 + 50)])
    func transactionRequestFromAnyCounter(first: Int, count: Int) throws {
        let request = TransactionRequest.bytes(host: "h:1", firstCounter: first, count: count, sentAt: 1_764_237_600_123)
        let text = String(decoding: request, as: UTF8.self)
        let parts = text.split(separator: "\r\n\r\n", maxSplits: 1)
        let body = try #require(parts.last)
        #expect(text.contains("Content-Length: \(body.utf8.count)\r\n"))
        let lines = body.split(separator: "\n")
        #expect(lines.count == count)
        for (offset, line) in lines.enumerated() {
            #expect(String(line) == TransactionRequest.transactionJSON(counter: first + offset, sentAt: 1_764_237_600_123))
        }
    }
}
