import Testing

@testable import WebSocket

@Suite("RFC 6455 §5.5 Control frames")
struct ControlFrameTests {
    @Test("§5.5.2: a ping is reported, then answered by a pong with the same payload")
    func pingPong() {
        let payload = Array("ping payload".utf8)
        expectEvents(frame(9, payload), [.ping(payload), .send([0x8A, UInt8(payload.count)] + payload)])
        let full = (0..<125).map { UInt8($0) }
        expectEvents(frame(9, full), [.ping(full), .send([0x8A, 125] + full)])
        let binary: [UInt8] = [0x00, 0xFF, 0xFE, 0xFD, 0xFC]
        expectEvents(frame(9, binary), [.ping(binary), .send([0x8A, 5] + binary)])
    }

    @Test("§5.5.3: a pong is reported, not answered")
    func pong() {
        expectEvents(frame(10, Array("keepalive".utf8)), [.pong(Array("keepalive".utf8))])
    }

    @Test("§5.5: a control payload of 126 bytes or more fails with 1002, from the header alone")
    func controlTooLong() {
        for opcode: UInt8 in [8, 9, 10] {
            expectEvents(frame(opcode, [UInt8](repeating: 0x61, count: 126)), failure(1002))
            // Only the first two header bytes: the error needs nothing more.
            expectEvents([0x80 | opcode, 0xFE], failure(1002))
        }
    }

    @Test("§5.5: a fragmented control frame fails with 1002")
    func fragmentedControl() {
        for opcode: UInt8 in [8, 9, 10] {
            expectEvents(frame(opcode, Array("frag".utf8), fin: false) + frame(0, []), failure(1002))
        }
    }

    @Test("§5.4: control frames between fragments are answered in place")
    func controlBetweenFragments() {
        let input =
            textFrame("Hel", fin: false) + frame(9, Array("p1".utf8)) + frame(0, Array("l".utf8), fin: false)
            + frame(10, Array("p2".utf8)) + frame(0, Array("o".utf8))
        expectEvents(
            input,
            [.ping(Array("p1".utf8)), .send([0x8A, 2] + Array("p1".utf8)), .pong(Array("p2".utf8)), .text(Array("Hello".utf8))]
        )
    }

    @Test("many pings in one buffer are answered in order")
    func manyPings() {
        var input: [UInt8] = []
        var expected: [WebSocketEvent] = []
        for index in 0..<20 {
            let payload = Array("\(index)".utf8)
            input += frame(9, payload, mask: UInt32(index) &* 0x1357_9BDF)
            expected += [.ping(payload), .send([0x8A, UInt8(payload.count)] + payload)]
        }
        expectEvents(input, expected)
    }

    @Test("a control frame is never compressed (RSV1 on a control frame fails with 1002 even with deflate)")
    func controlWithRSV1() {
        expectEvents(frame(9, [1], reservedBits: 0x40), failure(1002), deflate: DeflateParameters())
        expectEvents(frame(8, [0x03, 0xE8], reservedBits: 0x40), failure(1002), deflate: DeflateParameters())
    }
}

@Suite("RFC 6455 §5.4 Fragmentation")
struct FragmentationTests {
    @Test("fragmented text and binary messages, including zero-length fragments")
    func fragments() {
        expectEvents(
            textFrame("", fin: false) + frame(0, [], fin: false) + frame(0, Array("abc".utf8), fin: false) + frame(0, []),
            [.text(Array("abc".utf8))])
        expectEvents(frame(2, [1, 2], fin: false) + frame(0, [3], fin: false) + frame(0, [4]), [.binary([1, 2, 3, 4])])
        expectEvents(textFrame("", fin: false) + frame(0, []), [.text([])])
    }

    @Test("a continuation with no message in progress fails with 1002")
    func unexpectedContinuation() {
        expectEvents(frame(0, Array("x".utf8)), failure(1002))
        expectEvents(frame(0, Array("x".utf8), fin: false), failure(1002))
        expectEvents(textFrame("done") + frame(0, []), [.text(Array("done".utf8))] + failure(1002))
    }

    @Test("a new data frame inside a fragmented message fails with 1002")
    func interleavedMessages() {
        expectEvents(textFrame("a", fin: false) + textFrame("b"), failure(1002))
        expectEvents(textFrame("a", fin: false) + frame(2, [1], fin: false), failure(1002))
        expectEvents(frame(2, [1], fin: false) + textFrame("b") + frame(0, [2]), failure(1002))
    }

    @Test("a multi-byte character split across fragments is valid")
    func characterAcrossFragments() {
        let bytes = Array("κόσμε €𝄞".utf8)
        var input: [UInt8] = []
        for (index, byte) in bytes.enumerated() {
            input += frame(index == 0 ? 1 : 0, [byte], fin: index == bytes.count - 1)
        }
        expectEvents(input, [.text(bytes)])
    }

    @Test("a 16 MiB message in 4096 fragments, and 20 000 one-byte fragments")
    func largeFragmented() {
        let fragment = (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        var input: [UInt8] = []
        input.reserveCapacity(17 << 20)
        for index in 0..<4096 {
            input += frame(index == 0 ? 2 : 0, fragment, fin: index == 4095, mask: UInt32(index) &* 0x0F1E_2D3C)
        }
        var connection = makeConnection(options: .echo)
        let events = feed(&connection, input, .whole)
        #expect(events.count == 1)
        if case .binary(let message) = events.first {
            #expect(message.count == 16 << 20)
            #expect(message.prefix(4096).elementsEqual(fragment) && message.suffix(4096).elementsEqual(fragment))
        } else {
            Issue.record("expected one binary message")
        }

        var small: [UInt8] = []
        for index in 0..<20_000 {
            small += frame(index == 0 ? 1 : 0, [UInt8(ascii: "a") + UInt8(index % 26)], fin: index == 19_999)
        }
        var second = makeConnection(options: .echo)
        let smallEvents = feed(&second, small, .sevens)
        #expect(smallEvents == [.text((0..<20_000).map { UInt8(ascii: "a") + UInt8($0 % 26) })])
    }

    @Test("the message buffer is released after each message")
    func bufferReleased() {
        var connection = makeConnection()
        _ = feed(&connection, textFrame("partial", fin: false), .whole)
        #expect(connection.messageBuffer.capacity > 0)
        _ = feed(&connection, frame(0, Array(" done".utf8)), .whole)
        #expect(connection.messageBuffer.capacity == 0)
        #expect(connection.controlBuffer.capacity == 0)
        #expect(connection.messageOpcode == nil)
    }
}
