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
        ]
        let group = SharedLogGroup(
            payload: [9, 8], requests: [SharedLogRequest(transactions: transactions), SharedLogRequest(transactions: [])])
        let arguments = IngestScriptReply.arguments(for: group, ttl: Array("60".utf8))
        #expect(arguments.count == 3 + 2 + 4)
        #expect(arguments[0] == Array("60".utf8))
        #expect(arguments[1] == [9, 8])
        #expect(arguments[2] == Array("2".utf8))
        #expect(arguments[3] == Array("2".utf8))
        #expect(arguments[4] == Array("a".utf8))
        #expect(arguments[5] == SharedLogKey(transactions[0]).fingerprint.withUnsafeBufferPointer(IngestScriptReply.digest))
        #expect(arguments[5].count == 8)
        #expect(arguments[6] == [])
        #expect(arguments[7] == SharedLogKey(transactions[1]).fingerprint.withUnsafeBufferPointer(IngestScriptReply.digest))
        #expect(arguments[5] != arguments[7], "other content, another digest")
        #expect(arguments[8] == Array("0".utf8))
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
