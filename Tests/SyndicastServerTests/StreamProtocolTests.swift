import Basics
import HTTP1
import Testing

@testable import SyndicastServer

@Suite("Stream protocol pieces: client operations, SSE records, publish bodies")
struct StreamProtocolTests {
    @Test func parsesClientOperations() {
        #expect(ClientOperation.parse(Array(#"{"op":"ping"}"#.utf8)) == .ping)
        #expect(
            ClientOperation.parse(Array(#"{"op":"subscribe","topics":["transactions","orders"]}"#.utf8))
                == .subscribe(["transactions", "orders"]))
        #expect(ClientOperation.parse(Array(#"{"op":"unsubscribe","topics":["alerts"]}"#.utf8)) == .unsubscribe(["alerts"]))
    }

    @Test(arguments: [
        "nonsense", "[]", "{}", #"{"op":5}"#, #"{"op":"dance"}"#, #"{"op":"subscribe"}"#, #"{"op":"subscribe","topics":[]}"#,
        #"{"op":"subscribe","topics":[1]}"#,
    ])
    func rejectsBadClientOperations(_ text: String) {
        guard case .invalid(let reason) = ClientOperation.parse(Array(text.utf8)) else {
            Issue.record("\(text) was accepted")
            return
        }
        #expect(!reason.isEmpty)
    }

    @Test func formatsServerSentEventRecords() {
        let json = Array(#"{"type":"alert","seq":7}"#.utf8)
        let record = EncodedEvent.serverSentRecord(seq: 7, epoch: "00c0ffee12345678", json: json)
        #expect(String(decoding: record, as: UTF8.self) == "id: 00c0ffee12345678-7\ndata: {\"type\":\"alert\",\"seq\":7}\n\n")
        #expect(
            String(decoding: EncodedEvent.serverSentRecord(seq: 0, epoch: "e", json: json), as: UTF8.self)
                == "data: {\"type\":\"alert\",\"seq\":7}\n\n", "ephemeral events carry no id")
    }

    @Test func serverSentEventIDsCarryTheEpochAndParseBack() {
        let id = ServerSentEvents.eventID(epoch: "0123456789abcdef", seq: 42)
        #expect(id == "0123456789abcdef-42")
        let parsed = ServerSentEvents.parseEventID(id)
        #expect(parsed?.epoch == "0123456789abcdef" && parsed?.seq == 42)
        // A bare sequence number (no epoch) and other shapes are not ids of this form.
        for text in ["42", "-42", "0123456789abcdef-", "0123456789abcdef-4x2", "0123456789abcdef-+42", "abc-99999999999999999999999"] {
            #expect(ServerSentEvents.parseEventID(text) == nil, "\(text)")
        }
    }

    @Test func parsesPublishBodies() throws {
        let good = PublishRequest.parse(Array(#"{"topic":"orders","data":{"id":42}}"#.utf8))
        guard case .success(let message) = good else {
            Issue.record("valid publish refused")
            return
        }
        #expect(message.topic == "orders")
        #expect(String(decoding: message.data, as: UTF8.self) == #"{"id":42}"#)
    }

    @Test(arguments: [
        (#"not json"#, "invalid_json"), (#"{"topic":"alerts","data":1}"#, "invalid_topic"),
        (#"{"topic":"bad topic","data":1}"#, "invalid_topic"), (#"{"topic":"orders"}"#, "invalid_fields"),
    ])
    func refusesBadPublishBodies(_ body: String, _ code: String) {
        guard case .failure(let problem) = PublishRequest.parse(Array(body.utf8)) else {
            Issue.record("\(body) was accepted")
            return
        }
        #expect(problem.code == code)
        #expect(problem.status == 400)
    }

    @Test func refusesOversizedPublishData() {
        let big = String(repeating: "x", count: PublishRequest.maximumDataBytes + 1)
        guard case .failure(let problem) = PublishRequest.parse(Array(#"{"topic":"orders","data":"\#(big)"}"#.utf8)) else {
            Issue.record("oversized data accepted")
            return
        }
        #expect(problem.status == 413)
    }

    @Test func escapesJSONText() {
        #expect(JSONEscaping.quoted("a\"b\\c\nd\u{1}") == "\"a\\\"b\\\\c\\nd\\u0001\"")
    }

    @Test func subscribedMessageListsTopicsSorted() {
        #expect(
            String(decoding: StreamMessages.subscribed(["rankings", "alerts"]), as: UTF8.self)
                == #"{"type":"subscribed","topics":["alerts","rankings"]}"#)
    }
}
