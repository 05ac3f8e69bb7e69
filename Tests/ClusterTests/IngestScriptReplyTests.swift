import Broker
import Monitor
import Redis
import Testing

@testable import Cluster

@Suite("Ingest script: arguments and every reply shape")
struct IngestScriptReplyTests {
    func bulk(_ text: String) -> RESPValue { .bulkString(Array(text.utf8)) }

    @Test func argumentsFollowTheContract() {
        let transactions = [
            Transaction(id: "a", investorId: "i", syndicateId: "s", amount: Money(cents: 1), timestamp: 0),
            Transaction(id: nil, investorId: "i", syndicateId: "s", amount: Money(cents: 2), timestamp: 0),
            Transaction(id: "b", investorId: "i", syndicateId: "s", amount: Money(cents: 2), timestamp: 0),
        ]
        let records = SharedLogRecords(key0: 7, key1: 9)
        let group = SharedLogGroup(
            payload: [9, 8],
            requests: [
                SharedLogRequest(transactions: transactions, records: records.records(of: transactions), knownDuplicates: [0, 2]),
                .message,
            ],
            after: SharedLogPosition(high: 1_700_000_000_000, low: 4), repeatsIds: false)
        let arguments = IngestScriptReply.arguments(for: group)
        #expect(arguments.count == 4 + 3 + 3)
        #expect(arguments[0] == Array("1700000000000-4".utf8))
        #expect(arguments[1] == [9, 8])
        #expect(arguments[2] == Array("0".utf8))
        #expect(arguments[3] == Array("2".utf8))
        #expect(arguments[4] == Array("3".utf8))
        #expect(arguments[5].count == 3 * SharedLogRecords.size)
        #expect(arguments[5][24..<48].allSatisfy { $0 == 0 }, "no id: a zero record")
        #expect(arguments[5][0..<16] != arguments[5][48..<64], "other ids, other digests")
        #expect(arguments[5][16..<24] != arguments[5][64..<72], "other content, another fingerprint digest")
        #expect(arguments[6] == Array("0 2".utf8))
        #expect(arguments[7] == Array("0".utf8))
        #expect(arguments[8] == [])
        #expect(arguments[9] == [])
        let first = SharedLogGroup(payload: [], requests: [.message])
        #expect(IngestScriptReply.arguments(for: first)[0] == Array("0-0".utf8), "nothing applied yet")
        #expect(IngestScriptReply.arguments(for: first)[2] == Array("1".utf8), "repeats unless the caller says otherwise")
    }

    @Test func recordsAreKeyedAndIgnoreTheTimestamp() {
        let transaction = Transaction(id: "a", investorId: "ab", syndicateId: "c", amount: Money(cents: 5), timestamp: 1)
        var later = transaction
        later.timestamp = 999
        let moved = Transaction(id: "a", investorId: "a", syndicateId: "bc", amount: Money(cents: 5), timestamp: 1)
        let records = SharedLogRecords(key0: 1, key1: 2)
        #expect(records.records(of: [later]) == records.records(of: [transaction]), "a retry stamped anew is the same content")
        #expect(records.records(of: [moved])[16..<24] != records.records(of: [transaction])[16..<24], "length-prefixed identifiers")
        #expect(records.records(of: [moved])[0..<16] == records.records(of: [transaction])[0..<16], "same id, same digest")
        #expect(SharedLogRecords(key0: 1, key1: 3).records(of: [transaction]) != records.records(of: [transaction]), "keyed")
        #expect(
            SharedLogRecords(hexKey: "0000000000000001" + "0000000000000002")?.records(of: [transaction])
                == records.records(of: [transaction]))
        #expect(SharedLogRecords(hexKey: "000000000000000g" + "0000000000000002") == nil)
        #expect(SharedLogRecords(hexKey: SharedLogRecords.randomHexKey()) != nil)
    }

    @Test func anAppendedEntryWithAcceptedAndConflictingRequests() {
        let reply = RESPValue.array([
            bulk("1700000000000-3"), .array([.array([.integer(0), .integer(2)]), .array([.integer(1), .integer(0), .integer(4)])]),
        ])
        let parsed = IngestScriptReply.parse(reply, requestCount: 2)
        #expect(
            parsed
                == .success(
                    SharedLogAppendResult(
                        position: SharedLogPosition(high: 1_700_000_000_000, low: 3),
                        requests: [.accepted(duplicates: 2), .conflict(indices: [0, 4])])))
    }

    @Test func nothingAppendedIsANilEntryId() {
        let reply = RESPValue.array([.bulkString(nil), .array([.array([.integer(0), .integer(1)])])])
        #expect(
            IngestScriptReply.parse(reply, requestCount: 1)
                == .success(SharedLogAppendResult(position: nil, requests: [.accepted(duplicates: 1)])))
        let nullArray = RESPValue.array([.array(nil), .array([.array([.integer(1), .integer(0)])])])
        #expect(
            IngestScriptReply.parse(nullArray, requestCount: 1)
                == .success(SharedLogAppendResult(position: nil, requests: [.conflict(indices: [0])])))
    }

    @Test func errorRepliesAndOtherShapesAreFailures() {
        let cases: [(RESPValue, Int)] = [
            (.error(Array("ERR syndicast ingest: request count is not a number".utf8)), 1),
            (.error(Array("OOM command not allowed".utf8)), 1),
            (.integer(1), 1),
            (.array([bulk("1-1")]), 1),
            (.array([bulk("not-an-id"), .array([.array([.integer(0), .integer(0)])])]), 1),
            (.array([bulk("1-1"), .array([.array([.integer(0), .integer(0)])])]), 2),
            (.array([bulk("1-1"), .array([.array([.integer(2), .integer(0)])])]), 1),
            (.array([bulk("1-1"), .array([.array([.integer(1)])])]), 1),
            (.array([bulk("1-1"), .array([.array([.integer(0), .integer(-1)])])]), 1),
            (.array([bulk("1-1"), .array([.array([.integer(0), bulk("x")])])]), 1),
            (.array([.integer(5), .array([.array([.integer(0), .integer(0)])])]), 1),
        ]
        for (reply, count) in cases {
            guard case .failure(let error) = IngestScriptReply.parse(reply, requestCount: count) else {
                Issue.record("\(reply) should fail")
                continue
            }
            #expect(!error.message.isEmpty)
        }
        guard case .failure(let error) = IngestScriptReply.parse(.error(Array("OOM command not allowed".utf8)), requestCount: 1) else {
            return
        }
        #expect(error.message.contains("OOM"))
    }

    @Test func streamRepliesParse() {
        let entry = RESPValue.array([
            bulk("5-1"), .array([bulk("p"), .bulkString([1, 2]), bulk("s"), bulk("0.1")]),
        ])
        let noSkip = RESPValue.array([bulk("5-2"), .array([bulk("p"), .bulkString([3])])])
        let reply = RESPValue.array([.array([bulk("{syndicast}:stream"), .array([entry, noSkip])])])
        let entries = StreamReply.entries(reply)
        #expect(entries?.count == 2)
        #expect(entries?[0].position == SharedLogPosition(high: 5, low: 1))
        #expect(entries?[0].payload == [1, 2])
        #expect(entries?[0].skip?.text == "0.1")
        #expect(entries?[1].skip == nil)
        #expect(StreamReply.entries(.array(nil))?.isEmpty == true)
        #expect(StreamReply.entries(.integer(3)) == nil)

        let info = RESPValue.array([
            bulk("length"), .integer(2), bulk("max-deleted-entry-id"), bulk("3-0"),
            bulk("last-entry"), .array([bulk("5-2"), .array([])]),
        ])
        let parsed = StreamReply.info(info)
        #expect(parsed?.lastEntry == SharedLogPosition(high: 5, low: 2))
        #expect(parsed?.maxDeletedEntry == SharedLogPosition(high: 3, low: 0))
        #expect(parsed?.length == 2)
        #expect(parsed?.removesEntries(after: SharedLogPosition(high: 2, low: 9)) == SharedLogPosition(high: 3, low: 0))
        #expect(parsed?.removesEntries(after: SharedLogPosition(high: 3, low: 0)) == nil)
        // A trimmed head: 5 added, 2 left from 4-0 on.
        let trimmed = StreamReply.Info(
            lastEntry: SharedLogPosition(high: 5, low: 0), firstEntry: SharedLogPosition(high: 4, low: 0),
            maxDeletedEntry: SharedLogPosition(high: 0, low: 0), entriesAdded: 5, length: 2)
        #expect(trimmed.removesEntries(after: nil) == SharedLogPosition(high: 4, low: 0))
        #expect(trimmed.removesEntries(after: SharedLogPosition(high: 4, low: 0)) == nil)
        #expect(
            StreamReply.Info(lastEntry: nil, firstEntry: nil, maxDeletedEntry: nil, entriesAdded: 0, length: 0).removesEntries(after: nil)
                == nil)
        #expect(StreamReply.info(.error(Array("ERR no such key".utf8))) == StreamReply.Info())
        #expect(StreamReply.info(.error(Array("LOADING".utf8))) == nil)
    }
}
