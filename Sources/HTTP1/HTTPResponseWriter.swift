/// Serializes responses to wire bytes (RFC 9112 §4, §6).
public enum HTTPResponseWriter {
    /// Serializes the status line, headers and body.
    ///
    /// Adds `Server: syndicast` and `Date: <date>` unless present, `Content-Length` unless the
    /// status has no content (1xx, 204, 304) or the response sets `Content-Length` or
    /// `Transfer-Encoding` itself, `Connection: close` when `!keepAlive`, and
    /// `Connection: keep-alive` for a kept-alive HTTP/1.0 request. The body is omitted when
    /// `headOnly` (a response to HEAD: RFC 9110 §9.3.2 "The server SHOULD send the same header
    /// fields in response to a HEAD request as it would have sent if the request method had been
    /// GET") and for statuses without content. CR, LF and NUL in names and values become SP, so
    /// a header can never split the response.
    public static func serialize(
        _ response: HTTPResponse, date: String, keepAlive: Bool, headOnly: Bool = false,
        requestVersion: HTTPVersion = .http1_1
    ) -> [UInt8] {
        let noContent = HTTPStatus.hasNoContent(response.status)
        let reason = HTTPStatus.reasonPhrase(response.status)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(128 + response.headers.count * 32 + (headOnly || noContent ? 0 : response.body.count))
        bytes.append(contentsOf: "HTTP/1.1 ".utf8)
        appendDecimal(response.status, to: &bytes)
        bytes.append(ASCII.space)
        bytes.append(contentsOf: reason.utf8)
        bytes.append(contentsOf: "\r\n".utf8)

        var hasServer = false
        var hasDate = false
        var hasLength = false
        var hasConnectionClose = false
        for (name, value) in response.headers {
            if ASCII.equalsIgnoringCase(name, "Server") { hasServer = true }
            if ASCII.equalsIgnoringCase(name, "Date") { hasDate = true }
            if ASCII.equalsIgnoringCase(name, "Content-Length") || ASCII.equalsIgnoringCase(name, "Transfer-Encoding") {
                hasLength = true
            }
            if ASCII.equalsIgnoringCase(name, "Connection"), HTTPHeaders.list(value, containsToken: "close") {
                hasConnectionClose = true
            }
        }
        if !hasServer { bytes.append(contentsOf: "Server: syndicast\r\n".utf8) }
        if !hasDate, !date.isEmpty {
            bytes.append(contentsOf: "Date: ".utf8)
            appendSanitized(date, to: &bytes)
            bytes.append(contentsOf: "\r\n".utf8)
        }
        for (name, value) in response.headers {
            appendSanitized(name, to: &bytes)
            bytes.append(contentsOf: ": ".utf8)
            appendSanitized(value, to: &bytes)
            bytes.append(contentsOf: "\r\n".utf8)
        }
        if !noContent, !hasLength {
            bytes.append(contentsOf: "Content-Length: ".utf8)
            appendDecimal(response.body.count, to: &bytes)
            bytes.append(contentsOf: "\r\n".utf8)
        }
        if !keepAlive, !hasConnectionClose {
            bytes.append(contentsOf: "Connection: close\r\n".utf8)
        } else if keepAlive, !requestVersion.isAtLeastHTTP1_1, !response.headers.contains("Connection") {
            // RFC 9112 §9.3: an HTTP/1.0 connection persists only if the response says so.
            bytes.append(contentsOf: "Connection: keep-alive\r\n".utf8)
        }
        bytes.append(contentsOf: "\r\n".utf8)
        if !headOnly, !noContent { bytes.append(contentsOf: response.body) }
        return bytes
    }

    /// `HTTP/1.1 100 Continue` and the empty line (RFC 9110 §15.2.1).
    public static let continueResponse: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    /// Appends an integer's decimal digits (a small string: no allocation).
    @inline(__always)
    static func appendDecimal(_ value: Int, to bytes: inout [UInt8]) {
        bytes.append(contentsOf: String(value).utf8)
    }

    /// Appends `string`'s UTF-8 with CR, LF and NUL replaced by SP.
    static func appendSanitized(_ string: String, to bytes: inout [UInt8]) {
        // Almost every name and value is clean: one scan, then one bulk copy (appending byte by
        // byte is ~1.5% of a loop's time under single-POST ingest, `wrk`).
        if !string.utf8.contains(where: { $0 == ASCII.carriageReturn || $0 == ASCII.lineFeed || $0 == 0 }) {
            bytes.append(contentsOf: string.utf8)
            return
        }
        for byte in string.utf8 {
            bytes.append(byte == ASCII.carriageReturn || byte == ASCII.lineFeed || byte == 0 ? ASCII.space : byte)
        }
    }
}
