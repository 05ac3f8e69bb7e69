// libFuzzer target: the WebSocket connection (server role, permessage-deflate negotiated on odd
// first bytes) must turn every byte sequence into events or a close — never a crash — and must
// emit the same events whether the bytes arrive whole or in small pieces.
// Built by Tests/Fuzz/run.sh together with Sources/WebSocket (same module, so no import).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWebSocketConnection(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    let deflate: DeflateParameters? = size > 0 && data[0] & 1 == 1 ? DeflateParameters() : nil
    let whole = events(bytes, step: size, deflate: deflate)
    let split = events(bytes, step: max(1, Int(size > 1 ? data[1] % 5 : 1)), deflate: deflate)
    if whole != split {
        fatalError("chunking changed the events")
    }
    return 0
}

private func events(_ bytes: UnsafeRawBufferPointer, step: Int, deflate: DeflateParameters?) -> [WebSocketEvent] {
    let options = WebSocketOptions(maxFramePayload: 1 << 16, maxMessageSize: 1 << 16)
    var connection = WebSocketConnection(role: .server, options: options, deflate: deflate)
    var pending: [UInt8] = []
    var emitted: [WebSocketEvent] = []
    var offset = 0
    while offset < bytes.count {
        let end = min(bytes.count, offset + max(step, 1))
        pending += bytes[offset..<end]
        offset = end
        let consumed = pending.withUnsafeBytes { connection.receive($0) { emitted.append($0) } }
        pending.removeFirst(consumed)
    }
    return emitted
}
