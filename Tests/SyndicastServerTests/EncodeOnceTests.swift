import Broker
import Monitor
import Testing
import WebSocket

@testable import SyndicastServer

/// DESIGN.md §5: each event's JSON is encoded once, then framed for every wire form.
@Suite("Encode once: one JSON encode per event")
struct EncodeOnceTests {
    @Test("every wire form of an event (frame, deflated frame, SSE record) comes from one encode")
    func oneEncodePerEvent() {
        let rankings = BrokerEvent(seq: 7, topic: Topic.rankings, body: .rankings([]))
        let message = BrokerEvent(seq: 8, topic: "orders", body: .message(data: Array(#"{"n":1}"#.utf8)))
        let counter = EncodeCounter()
        let encoded = BrokerEvent.$encodeCounter.withValue(counter) {
            var deflater: SharedMessageDeflater? = SharedMessageDeflater(windowBits: 15)
            return [rankings, message].map { EncodedEvent($0, epoch: "e1", deflater: &deflater, serverSentEvents: true) }
        }
        #expect(counter.count == 2)
        #expect(encoded.allSatisfy { $0.deflatedFrame != nil && $0.serverSentEvent != nil })
        #expect(encoded[1].json == Array(#"{"type":"message","topic":"orders","seq":8,"data":{"n":1}}"#.utf8))
    }

    @Test("the counter sees only its own task's encodes")
    func counterIsPerTask() {
        let counter = EncodeCounter()
        _ = BrokerEvent(seq: 1, topic: "orders", body: .message(data: [])).encodeJSON()
        BrokerEvent.$encodeCounter.withValue(counter) {
            _ = BrokerEvent(seq: 2, topic: "orders", body: .message(data: Array("1".utf8))).encodeJSON()
        }
        #expect(counter.count == 1)
    }
}
