/// Field names the request parser recognizes without building a `String` from bytes.
///
/// The fields that decide framing and connection handling are identified once, case-insensitively,
/// and common names spelled canonically come back as string literals, which cost no allocation or
/// UTF-8 validation. (Building a string per name is about 20% of parse time for a typical POST;
/// `syndicast-microbench` measures the parser on a 183-byte POST.)
enum KnownFieldName {
    case host
    case contentLength
    case transferEncoding
    case connection
    case expect
    case upgrade
    case other

    /// Identifies `name` and returns it as a `String`.
    static func identify(_ name: UnsafeRawBufferPointer) -> (kind: KnownFieldName, string: String) {
        switch name.count {
        case 4:
            if let found = match(name, "Host", "Host", .host) { return found }
        case 6:
            if let found = match(name, "Accept", "Accept", .other) { return found }
            if let found = match(name, "Expect", "Expect", .expect) { return found }
            if let found = match(name, "Origin", "Origin", .other) { return found }
            if let found = match(name, "Cookie", "Cookie", .other) { return found }
        case 7:
            if let found = match(name, "Upgrade", "Upgrade", .upgrade) { return found }
            if let found = match(name, "Referer", "Referer", .other) { return found }
        case 10:
            if let found = match(name, "Connection", "Connection", .connection) { return found }
            if let found = match(name, "User-Agent", "User-Agent", .other) { return found }
        case 12:
            if let found = match(name, "Content-Type", "Content-Type", .other) { return found }
        case 13:
            if let found = match(name, "Authorization", "Authorization", .other) { return found }
            if let found = match(name, "If-None-Match", "If-None-Match", .other) { return found }
            if let found = match(name, "Cache-Control", "Cache-Control", .other) { return found }
        case 14:
            if let found = match(name, "Content-Length", "Content-Length", .contentLength) { return found }
        case 15:
            if let found = match(name, "Accept-Encoding", "Accept-Encoding", .other) { return found }
            if let found = match(name, "Accept-Language", "Accept-Language", .other) { return found }
        case 17:
            if let found = match(name, "Transfer-Encoding", "Transfer-Encoding", .transferEncoding) { return found }
            if let found = match(name, "Sec-WebSocket-Key", "Sec-WebSocket-Key", .other) { return found }
        case 21:
            if let found = match(name, "Sec-WebSocket-Version", "Sec-WebSocket-Version", .other) { return found }
        case 22:
            if let found = match(name, "Sec-WebSocket-Protocol", "Sec-WebSocket-Protocol", .other) { return found }
        case 24:
            if let found = match(name, "Sec-WebSocket-Extensions", "Sec-WebSocket-Extensions", .other) { return found }
        default:
            break
        }
        return (.other, String(decoding: name, as: UTF8.self))
    }

    /// `kind` and the canonical `literal` (or the bytes as received, when spelled differently) if
    /// `name` equals `canonical` ignoring case. `canonical` and `literal` hold the same text; the
    /// first compares without touching a `String`, the second is returned without building one.
    @inline(__always)
    static func match(
        _ name: UnsafeRawBufferPointer, _ canonical: StaticString, _ literal: String, _ kind: KnownFieldName
    ) -> (kind: KnownFieldName, string: String)? {
        if ASCII.equals(name, canonical) { return (kind, literal) }
        guard ASCII.equalsIgnoringCase(name, canonical) else { return nil }
        return (kind, String(decoding: name, as: UTF8.self))
    }
}
