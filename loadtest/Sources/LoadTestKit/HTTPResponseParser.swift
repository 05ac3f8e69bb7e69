/// A small HTTP/1.1 response parser for the load client (RFC 9112 §4, §6): status line, header
/// fields, and a body framed by `Content-Length` or chunked transfer coding.
///
/// Stateless: `parse` looks at a buffer that starts at a response and either finds one complete
/// response or asks for more bytes; the event loop keeps unconsumed bytes and offers them again with
/// more appended. Responses of the load test are small, so re-scanning an incomplete head is cheap.
public enum HTTPResponseParser {
    /// Most bytes of a response head (status line and fields) accepted.
    public static let maxHeadLength = 16 * 1024
    /// Most body bytes accepted.
    public static let maxBodyLength = 8 * 1024 * 1024

    /// What `parse` found.
    public enum Outcome: Equatable, Sendable {
        /// The buffer holds no complete response yet.
        case incomplete
        /// One complete response of `length` bytes starts the buffer.
        case complete(HTTPResponse, length: Int)
        /// The bytes are not a valid response.
        case invalid(String)
    }

    /// Parses one response from the start of `bytes`.
    ///
    /// `bodyless` is for responses to HEAD and for an upgrade (`101`), whose bytes after the head
    /// belong to the next protocol (RFC 9112 §6.3 items 1, 2).
    public static func parse(_ bytes: UnsafeRawBufferPointer, bodyless: Bool = false) -> Outcome {
        guard let headEnd = findHeadEnd(bytes) else {
            return bytes.count > maxHeadLength ? .invalid("response head too long") : .incomplete
        }
        guard headEnd <= maxHeadLength else { return .invalid("response head too long") }
        let lines = splitLines(UnsafeRawBufferPointer(rebasing: bytes[0..<(headEnd - 4)]))
        guard let statusLine = lines.first, let (versionMinor, status, reason) = parseStatusLine(statusLine) else {
            return .invalid("bad status line")
        }
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex else {
                return .invalid("bad header field")
            }
            let name = String(decoding: line[line.startIndex..<colon], as: UTF8.self)
            let value = String(decoding: trimmed(line[(colon + 1)...]), as: UTF8.self)
            headers.append((name, value))
        }
        var response = HTTPResponse(status: status, reason: reason, versionMinor: versionMinor, headers: headers, body: [])
        // RFC 9112 §6.3: 1xx, 204 and 304 responses have no body.
        if bodyless || (100..<200).contains(status) || status == 204 || status == 304 {
            return .complete(response, length: headEnd)
        }
        if let coding = response.header("Transfer-Encoding"), coding.lowercased().contains("chunked") {
            switch ChunkedBody.parse(UnsafeRawBufferPointer(rebasing: bytes[headEnd...]), limit: maxBodyLength) {
            case .incomplete:
                return .incomplete
            case .invalid(let reason):
                return .invalid(reason)
            case .complete(let body, let length):
                response.body = body
                return .complete(response, length: headEnd + length)
            }
        }
        guard let lengthText = response.header("Content-Length") else {
            // Read-until-close bodies are not used by the servers under test.
            return .invalid("response without Content-Length or chunked coding")
        }
        guard let bodyLength = Int(lengthText), bodyLength >= 0, bodyLength <= maxBodyLength else {
            return .invalid("bad Content-Length")
        }
        guard bytes.count - headEnd >= bodyLength else { return .incomplete }
        response.body = Array(bytes[headEnd..<(headEnd + bodyLength)])
        return .complete(response, length: headEnd + bodyLength)
    }

    /// Parses from an array; see `parse(_:bodyless:)`.
    public static func parse(_ bytes: [UInt8], bodyless: Bool = false) -> Outcome {
        bytes.withUnsafeBytes { parse($0, bodyless: bodyless) }
    }

    /// The offset just past the blank line ending the head, or nil.
    static func findHeadEnd(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard bytes.count >= 4 else { return nil }
        var index = 3
        while index < bytes.count {
            if bytes[index] == 10, bytes[index - 1] == 13, bytes[index - 2] == 10, bytes[index - 3] == 13 {
                return index + 1
            }
            index += 1
        }
        return nil
    }

    static func splitLines(_ head: UnsafeRawBufferPointer) -> [ArraySlice<UInt8>] {
        let all = Array(head)
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        var index = 0
        while index < all.count {
            if all[index] == 13, index + 1 < all.count, all[index + 1] == 10 {
                lines.append(all[start..<index])
                index += 2
                start = index
            } else {
                index += 1
            }
        }
        lines.append(all[start..<all.count])
        return lines
    }

    /// `HTTP/1.x SP 3DIGIT SP reason` (RFC 9112 §4).
    static func parseStatusLine(_ line: ArraySlice<UInt8>) -> (Int, Int, String)? {
        let prefix = Array("HTTP/1.".utf8)
        guard line.count >= 12, Array(line.prefix(7)) == prefix else { return nil }
        let base = line.startIndex
        let minorByte = line[base + 7]
        guard (48...57).contains(minorByte), line[base + 8] == UInt8(ascii: " ") else { return nil }
        var status = 0
        for offset in 9..<12 {
            let digit = line[base + offset]
            guard (48...57).contains(digit) else { return nil }
            status = status * 10 + Int(digit - 48)
        }
        guard line.count == 12 || line[base + 12] == UInt8(ascii: " ") else { return nil }
        let reason = line.count > 13 ? String(decoding: line[(base + 13)...], as: UTF8.self) : ""
        return (Int(minorByte - 48), status, reason)
    }

    static func trimmed(_ slice: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var result = slice
        while let first = result.first, first == 32 || first == 9 { result = result.dropFirst() }
        while let last = result.last, last == 32 || last == 9 { result = result.dropLast() }
        return result
    }
}
