import Testing

@testable import WebSocket

@Suite("Frame and message limits (1009)")
struct LimitTests {
    static let small = WebSocketOptions(maxFramePayload: 100, maxMessageSize: 150)

    @Test("a frame over maxFramePayload fails with 1009 from its header alone")
    func frameTooBig() {
        let header = Array(frame(2, [UInt8](repeating: 0, count: 101)).prefix(2 + 4))
        expectEvents(header, failure(1009), options: Self.small)
        let huge: [UInt8] = [0x82, 0xFF, 0, 0, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4]
        expectEvents(huge, failure(1009), options: .echo)
        expectEvents(frame(2, [UInt8](repeating: 7, count: 100)), [.binary([UInt8](repeating: 7, count: 100))], options: Self.small)
    }

    @Test("a message over maxMessageSize fails with 1009 at the header of the fragment that passes it")
    func messageTooBig() {
        let first = frame(2, [UInt8](repeating: 1, count: 100), fin: false)
        let second = frame(0, [UInt8](repeating: 2, count: 51))
        expectEvents(first + Array(second.prefix(6)), failure(1009), options: Self.small)
        let exact = frame(0, [UInt8](repeating: 2, count: 50))
        expectEvents(first + exact, [.binary([UInt8](repeating: 1, count: 100) + [UInt8](repeating: 2, count: 50))], options: Self.small)
    }

    @Test("the echo options take a 16 MiB text message in one frame and a 32 MiB binary one")
    func echoLimits() {
        #expect(WebSocketOptions.echo.maxMessageSize >= 16 << 20 && WebSocketOptions.echo.maxFramePayload >= 16 << 20)
        let text = [UInt8](repeating: UInt8(ascii: "x"), count: 16 << 20)
        var connection = makeConnection(options: .echo)
        #expect(feed(&connection, frame(1, text), .whole) == [.text(text)])
        let binary = [UInt8](repeating: 3, count: 32 << 20)
        #expect(feed(&connection, frame(2, binary, mask: 0), .whole) == [.binary(binary)])
        #expect(feed(&connection, frame(2, binary + [1], mask: 0), .whole) == failure(1009))
    }

    @Test("an idle connection is small and holds no buffers")
    func idleFootprint() {
        var connection = makeConnection(options: .echo, deflate: DeflateParameters())
        _ = feed(&connection, textFrame("one") + frame(9, [1]), .byteByByte)
        #expect(MemoryLayout<WebSocketConnection>.size <= 160)
        #expect(connection.messageBuffer.capacity == 0)
        #expect(connection.controlBuffer.capacity == 0)
        #expect(connection.inflater == nil)
    }
}
