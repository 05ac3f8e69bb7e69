import Basics
import Testing

@testable import WebSocket

@Suite("RFC 6455 §5.5.1, §7 Closing handshake")
struct CloseTests {
    static func closePayload(_ code: UInt16, _ reason: [UInt8] = []) -> [UInt8] {
        [UInt8(code >> 8), UInt8(code & 0xFF)] + reason
    }

    @Test("an empty close is answered with 1000")
    func emptyClose() {
        expectEvents(frame(8, []), [.send(serverClose(1000)), .closeTransport(.normal)])
    }

    @Test(
        "valid codes are echoed, without the reason",
        arguments: [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999] as [UInt16])
    func validCodes(code: UInt16) {
        expectEvents(
            frame(8, Self.closePayload(code, Array("bye ✓".utf8))),
            [.send(serverClose(code)), .closeTransport(WebSocketCloseCode(rawValue: code))])
        #expect(WebSocketCloseCode(rawValue: code).isValidToReceive)
    }

    @Test(
        "invalid codes fail with 1002",
        arguments: [0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535] as [UInt16])
    func invalidCodes(code: UInt16) {
        expectEvents(frame(8, Self.closePayload(code)), failure(1002))
        #expect(!WebSocketCloseCode(rawValue: code).isValidToReceive)
    }

    @Test("a one-byte close payload fails with 1002")
    func oneByte() {
        expectEvents(frame(8, [0x03]), failure(1002))
    }

    @Test("a close reason that is not UTF-8 fails with 1007")
    func invalidReason() {
        expectEvents(frame(8, Self.closePayload(1000, [0xCE, 0xBA, 0xE1, 0xBD])), failure(1007))
        expectEvents(frame(8, Self.closePayload(1000, [0xED, 0xA0, 0x80])), failure(1007))
        expectEvents(frame(8, Self.closePayload(1000, [0xFF])), failure(1007))
        expectEvents(frame(8, Self.closePayload(1000, [0xC0, 0xAF])), failure(1007))
    }

    @Test("a close inside a fragmented message is answered with the peer's code")
    func closeInsideFragments() {
        expectEvents(
            textFrame("part", fin: false) + frame(8, Self.closePayload(1001)), [.send(serverClose(1001)), .closeTransport(.goingAway)])
    }

    @Test("nothing after the peer's close is acted on")
    func framesAfterClose() {
        expectEvents(
            frame(8, Self.closePayload(1000)) + frame(9, [1]) + textFrame("late"), [.send(serverClose(1000)), .closeTransport(.normal)])
        var connection = makeConnection()
        _ = feed(&connection, frame(8, []), .whole)
        #expect(connection.state == .closed)
        var events: [WebSocketEvent] = []
        #expect(connection.receive(textFrame("x")) { events.append($0) } == 7)
        #expect(events.isEmpty)
    }

    @Test("server-initiated close: data and pings are dropped until the peer's close, then closeTransport")
    func serverInitiated() {
        var connection = makeConnection()
        #expect(connection.close(code: .goingAway, reason: "restart") == [0x88, 9, 0x03, 0xE9] + Array("restart".utf8))
        #expect(connection.state == .closing)
        #expect(connection.close(code: .normal, reason: "") == nil)
        let dropped = feed(&connection, textFrame("late") + frame(9, [1]) + frame(2, [1, 2], fin: false) + frame(0, [3]), .byteByByte)
        #expect(dropped.isEmpty)
        #expect(connection.messageBuffer.capacity == 0)
        // Frames are still parsed: a protocol error still closes the transport, without a second close frame.
        var failing = connection
        #expect(feed(&failing, frame(3, []), .whole) == [.closeTransport(.protocolError)])
        let closing = feed(&connection, frame(8, Self.closePayload(1000)), .sevens)
        #expect(closing == [.closeTransport(.goingAway)])
        #expect(connection.state == .closed)
    }

    @Test("a client-role close frame is masked")
    func clientClose() throws {
        var connection = makeConnection(role: .client)
        let closeFrame = connection.close(code: .normal, reason: "done")
        let bytes = try #require(closeFrame)
        let decoded = try #require(decodeClientFrame(bytes))
        #expect(decoded.first == 0x88 && decoded.payload == [0x03, 0xE8] + Array("done".utf8))
    }

    @Test("close reasons are cut to fit 125 bytes at a character boundary")
    func reasonTruncation() {
        let payload = WebSocketFrameEncoder.closePayload(code: .normal, reason: String(repeating: "é", count: 100))
        #expect(payload.count == 124)
        var validator = UTF8Validator()
        let valid = validator.feed(Array(payload.dropFirst(2)))
        #expect(valid && validator.isAtBoundary)
        #expect(WebSocketFrameEncoder.closePayload(code: .slowConsumer, reason: "") == [0x0F, 0xA8])
    }

    @Test("each protocol error maps to one close code")
    func errorCodes() {
        #expect(WebSocketProtocolError.frameTooBig.closeCode == .messageTooBig)
        #expect(WebSocketProtocolError.messageTooBig.closeCode == .messageTooBig)
        #expect(WebSocketProtocolError.invalidUTF8.closeCode == .invalidPayload)
        #expect(WebSocketProtocolError.invalidCloseReason.closeCode == .invalidPayload)
        #expect(WebSocketProtocolError.reservedOpcode(3).closeCode == .protocolError)
        #expect(WebSocketProtocolError.invalidCloseCode(1005).closeCode == .protocolError)
        #expect(WebSocketProtocolError.compressionUnavailable.closeCode == .internalError)
        #expect(WebSocketCloseCode.slowConsumer.rawValue == 4008)
    }
}
