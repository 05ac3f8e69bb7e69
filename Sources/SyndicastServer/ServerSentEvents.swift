/// The `text/event-stream` format (HTML Living Standard §9.2).
enum ServerSentEvents {
    /// `id: 121\ndata: {…}\n\n`; JSON has no raw newlines, so one `data:` line suffices.
    static func record(id: UInt64?, json: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(json.count + 32)
        if let id {
            bytes += Array("id: \(id)\n".utf8)
        }
        bytes += Array("data: ".utf8)
        bytes += json
        bytes += [0x0A, 0x0A]
        return bytes
    }

    /// The response head that starts a stream (no Content-Length: the body never ends).
    static func responseHead(date: String) -> [UInt8] {
        Array(
            ("HTTP/1.1 200 OK\r\nServer: syndicast\r\nDate: \(date)\r\nContent-Type: text/event-stream\r\n"
                + "Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\nConnection: keep-alive\r\n\r\n").utf8)
    }

    /// A comment line that keeps proxies from timing the stream out.
    static let keepalive: [UInt8] = Array(": keepalive\n\n".utf8)
}
