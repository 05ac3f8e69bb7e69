import SeededRandom
import Testing

@testable import WebSocket

@Suite("RFC 7692 §7.2 permessage-deflate data")
struct PermessageDeflateTests {
    static let hello = Array("Hello".utf8)
    static let takeover = DeflateParameters(serverNoContextTakeover: true, clientNoContextTakeover: false)
    static let noTakeover = DeflateParameters(serverNoContextTakeover: true, clientNoContextTakeover: true)

    /// A compressed client frame: RSV1 on the first frame only.
    static func compressed(_ payload: [UInt8], opcode: UInt8 = 1, fin: Bool = true, mask: UInt32? = exampleMask) -> [UInt8] {
        frame(opcode, payload, fin: fin, reservedBits: opcode == 0 ? 0 : 0x40, mask: mask)
    }

    static func deflate(_ payload: [UInt8]) -> [UInt8] {
        var deflater = SharedMessageDeflater()
        return deflater.compress(payload)
    }

    @Test("§7.2.3.1: \"Hello\" compressed, unmasked (client role) and masked (server role)")
    func helloExample() {
        let unmasked: [UInt8] = [0xC1, 0x07, 0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00]
        expectEvents(unmasked, [.text(Self.hello)], role: .client, deflate: Self.takeover)
        expectEvents(Self.compressed([0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00]), [.text(Self.hello)], deflate: Self.takeover)
        expectEvents(Self.compressed([0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00]), [.text(Self.hello)], deflate: Self.noTakeover)
    }

    @Test("§7.2.3.1: a compressed message in two fragments, RSV1 on the first only")
    func fragmentedExample() {
        let input: [UInt8] = [0x41, 0x03, 0xF2, 0x48, 0xCD, 0x80, 0x04, 0xC9, 0xC9, 0x07, 0x00]
        expectEvents(input, [.text(Self.hello)], role: .client, deflate: Self.takeover)
        expectEvents(
            Self.compressed([0xF2, 0x48, 0xCD], fin: false) + Self.compressed([0xC9, 0xC9, 0x07, 0x00], opcode: 0),
            [.text(Self.hello)], deflate: Self.takeover)
    }

    @Test("RSV1 on a continuation frame fails with 1002")
    func rsv1OnContinuation() {
        let input = Self.compressed([0xF2, 0x48, 0xCD], fin: false) + frame(0, [0xC9, 0xC9, 0x07, 0x00], reservedBits: 0x40)
        expectEvents(input, failure(1002), deflate: Self.takeover)
    }

    @Test("§7.2.3.2: with context takeover the second message refers to the first")
    func sharedWindow() {
        let first = Self.compressed([0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00])
        let second = Self.compressed([0xF2, 0x00, 0x11, 0x00, 0x00])
        expectEvents(first + second, [.text(Self.hello), .text(Self.hello)], deflate: Self.takeover)
        // With client_no_context_takeover the window is discarded: the reference back is invalid.
        expectEvents(first + second, [.text(Self.hello)] + failure(1002), deflate: Self.noTakeover)
        // Client role: the server's no-context-takeover discards the window too.
        let unmasked: [UInt8] = [0xC1, 0x07, 0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00, 0xC1, 0x05, 0xF2, 0x00, 0x11, 0x00, 0x00]
        expectEvents(
            unmasked, [.text(Self.hello), .text(Self.hello)], role: .client, deflate: DeflateParameters(serverNoContextTakeover: false))
        var client = makeConnection(role: .client, deflate: Self.takeover)
        let events = feed(&client, unmasked, .whole)
        #expect(events.count == 3 && events.first == .text(Self.hello) && events.last == .closeTransport(.protocolError))
        #expect(client.failure == .invalidCompressedData)
    }

    @Test("§7.2.3.3, §7.2.3.4, §7.2.3.5, §7.2.3.6: stored block, BFINAL, two blocks, empty message")
    func otherExamples() {
        expectEvents(
            Self.compressed([0x00, 0x05, 0x00, 0xFA, 0xFF, 0x48, 0x65, 0x6C, 0x6C, 0x6F, 0x00]), [.text(Self.hello)], deflate: Self.takeover
        )
        expectEvents(
            Self.compressed([0xF3, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00, 0x00])
                + Self.compressed([0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00]),
            [.text(Self.hello), .text(Self.hello)], deflate: Self.takeover)
        expectEvents(
            Self.compressed([0xF2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xCA, 0xC9, 0xC9, 0x07, 0x00]), [.text(Self.hello)],
            deflate: Self.takeover)
        expectEvents(Self.compressed([0x00]) + Self.compressed([0x00], opcode: 2), [.text([]), .binary([])], deflate: Self.takeover)
    }

    @Test("the inflater is allocated lazily, kept with context takeover, freed without")
    func inflaterLifecycle() {
        var keeping = makeConnection(deflate: Self.takeover)
        #expect(keeping.inflater == nil)
        _ = feed(&keeping, textFrame("plain"), .whole)
        #expect(keeping.inflater == nil)
        _ = feed(&keeping, Self.compressed(Self.deflate(Self.hello)), .whole)
        #expect(keeping.inflater != nil)
        var freeing = makeConnection(deflate: Self.noTakeover)
        let events = feed(&freeing, Self.compressed(Self.deflate(Self.hello), fin: false), .whole)
        #expect(events.isEmpty && freeing.inflater != nil)
        #expect(feed(&freeing, Self.compressed([], opcode: 0), .whole) == [.text(Self.hello)])
        #expect(freeing.inflater == nil && freeing.messageBuffer.capacity == 0)
    }

    @Test("compressed data zlib rejects fails with 1002")
    func invalidData() {
        expectEvents(Self.compressed([0xFF, 0xFF, 0xFF, 0xFF]), failure(1002), deflate: Self.takeover)
    }

    @Test("compressed text is validated as it is inflated: fail fast before the message ends")
    func compressedUTF8() {
        let invalid: [UInt8] = [0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xED, 0xA0, 0x80] + [UInt8](repeating: 0x61, count: 5000)
        var connection = makeConnection(deflate: Self.takeover)
        let events = feed(&connection, Self.compressed(Self.deflate(invalid), fin: false), .sevens)
        #expect(events == failure(1007))
        expectEvents(Self.compressed(Self.deflate([0x61, 0xE2, 0x82])), failure(1007), deflate: Self.takeover)
        expectEvents(
            Self.compressed(Self.deflate([0x61, 0xE2, 0x82, 0xAC]), mask: 0x0102_0304), [.text([0x61, 0xE2, 0x82, 0xAC])],
            deflate: Self.takeover)
    }

    @Test("a decompression bomb stops at the message cap with 1009")
    func decompressionBomb() {
        let bomb = Self.deflate([UInt8](repeating: 0, count: 64 << 20))
        #expect(bomb.count < 128 * 1024)
        let options = WebSocketOptions(maxFramePayload: 1 << 20, maxMessageSize: 1 << 20)
        var connection = makeConnection(options: options, deflate: Self.takeover)
        #expect(feed(&connection, Self.compressed(bomb, opcode: 2, fin: false), .whole) == failure(1009))
        #expect(connection.messageBuffer.capacity == 0 && connection.inflater == nil)
        let exact = Self.deflate([UInt8](repeating: 0, count: 1 << 20))
        expectEvents(
            Self.compressed(exact, opcode: 2), [.binary([UInt8](repeating: 0, count: 1 << 20))], options: options, deflate: Self.takeover)
        let overByOne = Self.deflate([UInt8](repeating: 0, count: (1 << 20) + 1))
        expectEvents(Self.compressed(overByOne, opcode: 2), failure(1009), options: options, deflate: Self.takeover)
    }

    @Test("a 16 MiB compressed text message in many fragments, and one-byte fragments")
    func largeCompressed() {
        var generator = SeededGenerator(seed: 7692)
        let words = ["alpha ", "beta ", "gamma ", "délta ", "€psilon ", "𝄞 "].map { Array($0.utf8) }
        var text: [UInt8] = []
        text.reserveCapacity(16 << 20 + 16)
        while text.count < 16 << 20 { text += words.randomElement(using: &generator) ?? [] }
        let compressedBytes = Self.deflate(text)
        var input: [UInt8] = []
        var offset = 0
        var index = 0
        while offset < compressedBytes.count {
            let size = min(compressedBytes.count - offset, 1 + (index * 7919) % 4000)
            input += Self.compressed(
                Array(compressedBytes[offset..<(offset + size)]), opcode: index == 0 ? 1 : 0, fin: offset + size == compressedBytes.count)
            offset += size
            index += 1
        }
        var connection = makeConnection(options: .echo, deflate: Self.noTakeover)
        #expect(feed(&connection, input, .whole) == [.text(text)])

        let small = Self.deflate(Array("one byte per fragment, many times over".utf8))
        var oneByte: [UInt8] = []
        for (position, byte) in small.enumerated() {
            oneByte += Self.compressed([byte], opcode: position == 0 ? 1 : 0, fin: position == small.count - 1)
        }
        expectEvents(oneByte, [.text(Array("one byte per fragment, many times over".utf8))], deflate: Self.takeover)
    }

    @Test("shared deflater: RFC output for \"Hello\", fresh context every message")
    func sharedDeflater() {
        var deflater = SharedMessageDeflater()
        #expect(deflater.compress(Self.hello) == [0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00])
        #expect(deflater.compress(Self.hello) == [0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00])
        var copy = deflater
        #expect(copy.compress(Self.hello) == deflater.compress(Self.hello))
        #expect(deflater.compress([]) == [0x00])
        let small = SharedMessageDeflater(windowBits: 8)
        #expect(small.windowBits == 9)
    }

    @Test("encodeMessage compresses when it helps and the peer can inflate it")
    func encodeMessage() {
        let text = Array(String(repeating: "{\"type\":\"alert\",\"amount\":\"25000.00\"}", count: 40).utf8)
        for parameters in [Self.takeover, DeflateParameters(serverMaxWindowBits: 9), DeflateParameters(serverMaxWindowBits: 12)] {
            var server = makeConnection(deflate: parameters)
            let encoded = server.encodeMessage(.text, text)
            #expect(encoded[0] == 0xC1 && encoded.count < text.count / 4)
            var client = makeConnection(role: .client, deflate: parameters)
            #expect(feed(&client, encoded + encoded, .threes) == [.text(text), .text(text)])
        }
        var server = makeConnection(deflate: Self.takeover)
        #expect(server.encodeMessage(.text, Self.hello) == [0x81, 0x05] + Self.hello)
        var generator = SeededGenerator(seed: 1)
        let noise = (0..<1000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        #expect(server.encodeMessage(.binary, noise) == WebSocketFrameEncoder.encode(.binary, payload: noise))
        var plain = makeConnection()
        #expect(plain.encodeMessage(.text, text) == WebSocketFrameEncoder.encode(.text, payload: text))
    }

    @Test("a client compresses and masks; a server-role connection reads it")
    func clientEncodes() {
        let text = Array(String(repeating: "subscribe transactions ", count: 20).utf8)
        var client = makeConnection(role: .client, deflate: Self.takeover)
        let encoded = client.encodeMessage(.text, text)
        #expect(encoded[0] == 0xC1 && encoded[1] & 0x80 != 0)
        var server = makeConnection(deflate: Self.takeover)
        #expect(feed(&server, encoded, .byteByByte) == [.text(text)])
        // client_max_window_bits=8 cannot be produced by zlib: the client sends uncompressed.
        var limited = makeConnection(role: .client, deflate: DeflateParameters(clientMaxWindowBits: 8))
        #expect(limited.encodeMessage(.text, text)[0] == 0x81)
    }

    @Test("compressed and plain messages interleave with control frames")
    func mixed() {
        let compressedHello = Self.deflate(Self.hello)
        let input =
            Self.compressed(Array(compressedHello.prefix(3)), fin: false) + frame(9, [7])
            + Self.compressed(Array(compressedHello.dropFirst(3)), opcode: 0)
            + textFrame("plain") + Self.compressed(compressedHello, opcode: 2)
        expectEvents(
            input, [.ping([7]), .send([0x8A, 1, 7]), .text(Self.hello), .text(Array("plain".utf8)), .binary(Self.hello)],
            deflate: Self.takeover)
    }
}
