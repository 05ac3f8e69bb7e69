import Testing

@testable import WebSocket

/// How a test splits its input across `receive` calls.
enum Chunking: CaseIterable, CustomTestStringConvertible, Sendable {
    case whole
    case byteByByte
    case threes
    case sevens

    var size: Int {
        switch self {
        case .whole: Int.max
        case .byteByByte: 1
        case .threes: 3
        case .sevens: 7
        }
    }

    var testDescription: String { "\(self)" }
}

/// The masking key of the RFC 6455 §5.7 examples.
let exampleMask: UInt32 = 0x37FA_213D

/// How a test frame writes its payload length.
enum LengthForm {
    case minimal
    case sixteenBit
    case sixtyFourBit
}

/// Builds a frame byte by byte, independently of the encoder under test, so it can also build
/// frames the encoder never would (reserved opcodes and bits, non-minimal lengths).
func frame(
    _ opcode: UInt8,
    _ payload: [UInt8],
    fin: Bool = true,
    reservedBits: UInt8 = 0,
    mask: UInt32? = exampleMask,
    length: LengthForm = .minimal
) -> [UInt8] {
    var bytes: [UInt8] = [(fin ? 0x80 : 0) | reservedBits | opcode]
    let maskBit: UInt8 = mask == nil ? 0 : 0x80
    let count = payload.count
    switch length {
    case .minimal where count <= 125:
        bytes.append(maskBit | UInt8(count))
    case .minimal where count <= 0xFFFF, .sixteenBit:
        bytes.append(maskBit | 126)
        bytes += [UInt8(count >> 8 & 0xFF), UInt8(count & 0xFF)]
    default:
        bytes.append(maskBit | 127)
        bytes += (0..<8).reversed().map { UInt8(truncatingIfNeeded: UInt64(count) >> (UInt64($0) * 8)) }
    }
    guard let mask else { return bytes + payload }
    let key = (0..<4).map { UInt8(truncatingIfNeeded: mask >> (24 - UInt32($0) * 8)) }
    bytes += key
    let start = bytes.count
    bytes += payload
    bytes.withUnsafeMutableBufferPointer { buffer in
        for index in 0..<payload.count {
            buffer[start + index] ^= key[index & 3]
        }
    }
    return bytes
}

/// A client's text frame (masked).
func textFrame(_ text: String, fin: Bool = true) -> [UInt8] {
    frame(1, Array(text.utf8), fin: fin)
}

/// A close frame as the server sends it: unmasked, code only.
func serverClose(_ code: UInt16) -> [UInt8] {
    [0x88, 0x02, UInt8(code >> 8), UInt8(code & 0xFF)]
}

/// The events a protocol error produces on an open server connection.
func failure(_ code: UInt16) -> [WebSocketEvent] {
    [.send(serverClose(code)), .closeTransport(WebSocketCloseCode(rawValue: code))]
}

/// Feeds `bytes` in pieces, re-presenting unconsumed bytes as the API requires.
func feed(_ connection: inout WebSocketConnection, _ bytes: [UInt8], _ chunking: Chunking) -> [WebSocketEvent] {
    var events: [WebSocketEvent] = []
    var pending: [UInt8] = []
    var offset = 0
    while offset < bytes.count {
        let end = bytes.count - offset <= chunking.size ? bytes.count : offset + chunking.size
        pending += bytes[offset..<end]
        offset = end
        let consumed = connection.receive(pending) { events.append($0) }
        #expect(consumed >= 0 && consumed <= pending.count)
        pending.removeFirst(consumed)
        #expect(pending.count < 14, "only an incomplete header may stay unconsumed")
    }
    return events
}

/// A fresh connection.
func makeConnection(
    role: WebSocketRole = .server,
    options: WebSocketOptions = WebSocketOptions(),
    deflate: DeflateParameters? = nil
) -> WebSocketConnection {
    WebSocketConnection(role: role, options: options, deflate: deflate)
}

/// Checks that `bytes` produce `expected` with every chunking.
func expectEvents(
    _ bytes: [UInt8],
    _ expected: [WebSocketEvent],
    role: WebSocketRole = .server,
    options: WebSocketOptions = WebSocketOptions(),
    deflate: DeflateParameters? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    for chunking in Chunking.allCases {
        var connection = makeConnection(role: role, options: options, deflate: deflate)
        let events = feed(&connection, bytes, chunking)
        #expect(events == expected, "chunking \(chunking)", sourceLocation: sourceLocation)
    }
}

/// Unmasks a client frame's payload (for checking what a client-role connection sent).
func decodeClientFrame(_ bytes: [UInt8]) -> (first: UInt8, payload: [UInt8])? {
    guard bytes.count >= 2, bytes[1] & 0x80 != 0 else { return nil }
    var offset = 2
    var length = Int(bytes[1] & 0x7F)
    if length == 126 {
        length = Int(bytes[2]) << 8 | Int(bytes[3])
        offset = 4
    } else if length == 127 {
        length = bytes[2..<10].reduce(0) { $0 << 8 | Int($1) }
        offset = 10
    }
    guard bytes.count == offset + 4 + length else { return nil }
    let key = Array(bytes[offset..<(offset + 4)])
    let payload = bytes[(offset + 4)...].enumerated().map { $0.element ^ key[$0.offset % 4] }
    return (bytes[0], payload)
}
