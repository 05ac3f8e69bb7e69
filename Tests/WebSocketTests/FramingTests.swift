import Testing

@testable import WebSocket

@Suite("RFC 6455 §5.7 Examples")
struct FramingExampleTests {
    static let hello = Array("Hello".utf8)

    @Test("encoder: single-frame unmasked and masked text")
    func encodeHello() {
        #expect(WebSocketFrameEncoder.encode(.text, payload: Self.hello) == [0x81, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F])
        #expect(
            WebSocketFrameEncoder.encode(.text, payload: Self.hello, mask: exampleMask)
                == [0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58])
    }

    @Test("encoder: fragmented text, ping, masked pong")
    func encodeFragmentsAndControl() {
        #expect(WebSocketFrameEncoder.encode(.text, payload: Array("Hel".utf8), fin: false) == [0x01, 0x03, 0x48, 0x65, 0x6C])
        #expect(WebSocketFrameEncoder.encode(.continuation, payload: Array("lo".utf8)) == [0x80, 0x02, 0x6C, 0x6F])
        #expect(WebSocketFrameEncoder.encode(.ping, payload: Self.hello) == [0x89, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F])
        #expect(
            WebSocketFrameEncoder.encode(.pong, payload: Self.hello, mask: exampleMask)
                == [0x8A, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58])
    }

    @Test("encoder: 256 bytes with a 16-bit length, 64 KiB with a 64-bit length")
    func encodeLengths() {
        let small = [UInt8](repeating: 0xAB, count: 256)
        #expect(Array(WebSocketFrameEncoder.encode(.binary, payload: small).prefix(4)) == [0x82, 0x7E, 0x01, 0x00])
        #expect(WebSocketFrameEncoder.encode(.binary, payload: small).count == 260)
        let large = [UInt8](repeating: 0xCD, count: 65536)
        let encoded = WebSocketFrameEncoder.encode(.binary, payload: large)
        #expect(Array(encoded.prefix(10)) == [0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0])
        #expect(encoded.count == 65546 && encoded.suffix(65536).allSatisfy { $0 == 0xCD })
        #expect(WebSocketFrameEncoder.encode(.binary, payload: [UInt8](repeating: 0, count: 125))[1] == 125)
        #expect(WebSocketFrameEncoder.encode(.binary, payload: [UInt8](repeating: 0, count: 126))[1] == 126)
        #expect(WebSocketFrameEncoder.encode(.binary, payload: [UInt8](repeating: 0, count: 65535))[1] == 126)
        #expect(WebSocketFrameEncoder.encode(.binary, payload: [UInt8](repeating: 0, count: 65536))[1] == 127)
    }

    @Test("client role decodes the unmasked examples", arguments: Chunking.allCases)
    func clientDecodes(chunking: Chunking) {
        var connection = makeConnection(role: .client)
        let input: [UInt8] =
            [0x81, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F] + [0x01, 0x03, 0x48, 0x65, 0x6C, 0x80, 0x02, 0x6C, 0x6F]
            + [0x82, 0x7E, 0x01, 0x00] + [UInt8](repeating: 7, count: 256)
            + [0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0] + [UInt8](repeating: 9, count: 65536)
        let events = feed(&connection, input, chunking)
        #expect(
            events == [
                .text(Self.hello), .text(Self.hello), .binary([UInt8](repeating: 7, count: 256)),
                .binary([UInt8](repeating: 9, count: 65536)),
            ])
    }

    @Test("client role answers an unmasked ping with a masked pong")
    func clientPong() throws {
        var connection = makeConnection(role: .client)
        let events = feed(&connection, [0x89, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F], .whole)
        #expect(events.count == 2)
        #expect(events.first == .ping(Self.hello))
        guard case .send(let pong) = events.last else {
            Issue.record("no pong")
            return
        }
        let decoded = try #require(decodeClientFrame(pong))
        #expect(decoded.first == 0x8A)
        #expect(decoded.payload == Self.hello)
    }

    @Test("server role decodes the masked example in every chunking")
    func serverDecodes() {
        expectEvents([0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58], [.text(Self.hello)])
        expectEvents([0x8A, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58], [.pong(Self.hello)])
    }
}

@Suite("RFC 6455 §5.2 Base framing")
struct BaseFramingTests {
    @Test("many frames in one buffer are all processed, in order")
    func manyFramesInOneBuffer() {
        var input: [UInt8] = []
        var expected: [WebSocketEvent] = []
        for index in 0..<50 {
            input += textFrame("message \(index)")
            expected.append(.text(Array("message \(index)".utf8)))
            input += frame(2, [UInt8(index)], mask: UInt32(index) &* 0x0101_0101)
            expected.append(.binary([UInt8(index)]))
        }
        expectEvents(input, expected)
    }

    @Test("16-bit and 64-bit lengths for every size class, masked")
    func lengthClasses() {
        for count in [0, 1, 125, 126, 127, 65535, 65536, 70000] {
            let payload = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            var connection = makeConnection()
            let events = feed(&connection, frame(2, payload), .whole)
            #expect(events == [.binary(payload)], "\(count) bytes")
        }
    }

    @Test("non-minimal length encodings are accepted (the rule binds the sender; decision documented)")
    func nonMinimalLengths() {
        expectEvents(frame(1, Array("Hello".utf8), length: .sixteenBit), [.text(Array("Hello".utf8))])
        expectEvents(frame(1, Array("Hello".utf8), length: .sixtyFourBit), [.text(Array("Hello".utf8))])
        expectEvents(frame(2, [UInt8](repeating: 1, count: 300), length: .sixtyFourBit), [.binary([UInt8](repeating: 1, count: 300))])
    }

    @Test("a 64-bit length with its most significant bit set fails with 1002")
    func lengthHighBit() {
        let header: [UInt8] = [0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 5, 1, 2, 3, 4]
        expectEvents(header + [1, 2, 3, 4, 5], failure(1002), options: .echo)
    }

    @Test("an incomplete header is not consumed; payload is consumed as it arrives")
    func partialConsumption() {
        var connection = makeConnection()
        let bytes = textFrame("Hello")
        var events: [WebSocketEvent] = []
        #expect(connection.receive(Array(bytes.prefix(1))) { events.append($0) } == 0)
        #expect(connection.receive(Array(bytes.prefix(5))) { events.append($0) } == 0)
        #expect(connection.receive(Array(bytes.prefix(6))) { events.append($0) } == 6)
        #expect(connection.receive(Array(bytes[6...])) { events.append($0) } == 5)
        #expect(events == [.text(Array("Hello".utf8))])
        #expect(connection.receive([]) { events.append($0) } == 0)
    }

    @Test("zero-length frames are legal")
    func zeroLength() {
        expectEvents(
            frame(1, []) + frame(2, []) + frame(9, []) + frame(10, []),
            [.text([]), .binary([]), .ping([]), .send([0x8A, 0x00]), .pong([])])
    }

    @Test("§5.1: a server fails an unmasked client frame with 1002")
    func unmaskedClientFrame() {
        expectEvents(
            textFrame("ok") + frame(1, Array("Hello".utf8), mask: nil) + textFrame("after"), [.text(Array("ok".utf8))] + failure(1002))
    }

    @Test("§5.1: a client fails a masked server frame with 1002")
    func maskedServerFrame() throws {
        var connection = makeConnection(role: .client)
        let events = feed(&connection, frame(1, Array("Hello".utf8)), .whole)
        #expect(events.count == 2)
        #expect(events.last == .closeTransport(.protocolError))
        guard case .send(let close) = events.first else {
            Issue.record("no close frame")
            return
        }
        let decoded = try #require(decodeClientFrame(close))
        #expect(decoded.first == 0x88 && decoded.payload == [0x03, 0xEA])
        #expect(connection.failure == .maskedFrame)
    }

    @Test("§5.2: RSV2 and RSV3 fail with 1002, even with deflate; later frames are ignored")
    func reservedBits() {
        for bits: UInt8 in [0x20, 0x10, 0x30, 0x70] {
            let input = textFrame("first") + frame(1, Array("bad".utf8), reservedBits: bits) + textFrame("after")
            expectEvents(input, [.text(Array("first".utf8))] + failure(1002))
            expectEvents(input, [.text(Array("first".utf8))] + failure(1002), deflate: DeflateParameters())
        }
    }

    @Test("§5.2: RSV1 without permessage-deflate fails with 1002")
    func rsv1WithoutDeflate() {
        expectEvents(frame(1, Array("Hello".utf8), reservedBits: 0x40) + textFrame("after"), failure(1002))
        expectEvents(frame(9, [], reservedBits: 0x40), failure(1002))
    }

    @Test("§5.2: reserved opcodes fail with 1002, before or after valid frames", arguments: [3, 4, 5, 6, 7, 11, 12, 13, 14, 15] as [UInt8])
    func reservedOpcodes(opcode: UInt8) {
        expectEvents(frame(opcode, []), failure(1002))
        expectEvents(frame(opcode, Array("payload".utf8)), failure(1002))
        expectEvents(textFrame("a") + frame(opcode, [1]) + frame(9, [2]), [.text([0x61])] + failure(1002))
        var connection = makeConnection()
        _ = feed(&connection, frame(opcode, []), .whole)
        #expect(connection.failure == .reservedOpcode(opcode))
        #expect(connection.state == .closed)
    }

    @Test("after a failure every later byte is consumed and ignored")
    func ignoredAfterFailure() {
        var connection = makeConnection()
        var events: [WebSocketEvent] = []
        let input = frame(3, []) + frame(9, [1])
        #expect(connection.receive(input) { events.append($0) } == input.count)
        #expect(events == failure(1002))
        let later = frame(9, [1])
        #expect(connection.receive(later) { events.append($0) } == later.count)
        #expect(events == failure(1002))
    }
}
