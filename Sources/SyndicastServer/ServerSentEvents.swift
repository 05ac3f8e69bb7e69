/// The `text/event-stream` format (HTML Living Standard §9.2).
enum ServerSentEvents {
    /// `id: <epoch>-121\ndata: {…}\n\n`; JSON has no raw newlines, so one `data:` line suffices.
    static func record(id: String?, json: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(json.count + 48)
        if let id {
            bytes += Array("id: \(id)\n".utf8)
        }
        bytes += Array("data: ".utf8)
        bytes += json
        bytes += [0x0A, 0x0A]
        return bytes
    }

    /// A sequenced event's SSE id: `<epoch>-<seq>`, e.g. `3f2a9c0b1d4e5f60-121`.
    ///
    /// The browser sends the last id back as `Last-Event-ID` when it reconnects, so the id must
    /// say which history its sequence number belongs to: a bare number would resume into a
    /// different history after a restart. The epoch is 16 lowercase hex digits and the sequence
    /// number decimal, so the last `-` separates them, and an id without one (a bare number) is
    /// recognisably not of this form.
    static func eventID(epoch: String, seq: UInt64) -> String {
        "\(epoch)-\(seq)"
    }

    /// Splits an ``eventID(epoch:seq:)`` back into its parts; nil if `text` is not of that form.
    static func parseEventID(_ text: String) -> (epoch: String, seq: UInt64)? {
        guard let separator = text.lastIndex(of: "-") else { return nil }
        let epoch = text[..<separator]
        let digits = text[text.index(after: separator)...]
        guard !epoch.isEmpty, !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let seq = UInt64(digits) else {
            return nil
        }
        return (String(epoch), seq)
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
