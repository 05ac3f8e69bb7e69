import Testing

@testable import WebSocket

@Suite("RFC 6455 §8.1 Text messages must be UTF-8")
struct TextValidationTests {
    static let invalidTail: [UInt8] = [0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCF, 0x83, 0xCE, 0xBC, 0xCE, 0xB5, 0xED, 0xA0, 0x80, 0x65, 0x64]

    @Test("invalid text in one frame fails with 1007; valid messages before it are delivered")
    func invalidSingleFrame() {
        expectEvents(textFrame("fine") + frame(1, Self.invalidTail) + textFrame("late"), [.text(Array("fine".utf8))] + failure(1007))
    }

    @Test("fail fast inside one frame: the error comes before the rest of the frame arrives")
    func failFastWithinFrame() {
        var connection = makeConnection()
        // A frame that announces 1000 bytes but whose first bytes are already invalid.
        let announced = frame(1, Self.invalidTail + [UInt8](repeating: 0x61, count: 1000 - Self.invalidTail.count))
        let firstRead = Array(announced.prefix(8 + 14))  // 16-bit length header, 14 payload bytes
        var events: [WebSocketEvent] = []
        #expect(connection.receive(firstRead) { events.append($0) } == firstRead.count)
        #expect(events == failure(1007))
        #expect(connection.failure == .invalidUTF8)
    }

    @Test("fail fast across fragments: a non-final fragment with invalid bytes fails at once")
    func failFastAcrossFragments() {
        var connection = makeConnection()
        let events = feed(&connection, textFrame("κόσμε", fin: false) + frame(0, [0xF4, 0x90], fin: false), .whole)
        #expect(events == failure(1007))
        // The same bytes split differently: the invalid pair straddles two fragments.
        expectEvents(frame(1, [0x61, 0xF4], fin: false) + frame(0, [0x90], fin: false), failure(1007))
    }

    @Test("an incomplete character at the end of a message fails with 1007")
    func truncatedAtEnd() {
        expectEvents(frame(1, [0x61, 0xE2, 0x82]), failure(1007))
        expectEvents(frame(1, [0x61, 0xE2], fin: false) + frame(0, [0x82]), failure(1007))
        expectEvents(frame(1, [0x61, 0xE2], fin: false) + frame(0, [0x82, 0xAC]), [.text([0x61, 0xE2, 0x82, 0xAC])])
    }

    @Test("binary messages are not validated")
    func binaryNotValidated() {
        expectEvents(frame(2, [0xFF, 0xC0, 0xED, 0xA0, 0x80]), [.binary([0xFF, 0xC0, 0xED, 0xA0, 0x80])])
    }
}
