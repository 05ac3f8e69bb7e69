#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Parsing of a complete request head: request line (RFC 9112 §3) and field lines (RFC 9112 §5).
extension HTTPRequestParser {
    /// Framing and connection facts collected while reading the field lines.
    struct FieldFacts {
        var contentLength: Int?
        var transferEncodingSeen = false
        var chunkedCount = 0
        var lastCodingIsChunked = false
        var otherCodingSeen = false
        var hostCount = 0
        var connectionClose = false
        var connectionKeepAlive = false
        var connectionUpgrade = false
        var upgradeSeen = false
        var expectContinue = false
    }

    /// A parsed head with what the parser needs to read its body.
    struct ParsedHead {
        var head: HTTPRequestHead
        var framing: BodyFraming
        var expectsContinue: Bool
    }

    /// The outcome of ``parseHead(_:)``.
    enum HeadOutcome {
        case success(ParsedHead)
        case failure(HTTPParseError)
    }

    /// Parses `head`, which ends with the empty line, into a request head and its body framing.
    func parseHead(_ head: UnsafeRawBufferPointer) -> HeadOutcome {
        // request-line = method SP request-target SP HTTP-version (RFC 9112 §3)
        var index = 0
        while index < head.count, ASCII.isTokenCharacter(head[index]) { index += 1 }
        guard index > 0, index < head.count, head[index] == ASCII.space else {
            return .failure(.badRequest("malformed request line: invalid method"))
        }
        let method = Self.methodString(UnsafeRawBufferPointer(rebasing: head[0..<index]))
        index += 1
        let targetStart = index
        var questionMark = -1
        // The target is URI characters only: no whitespace, CTL or non-ASCII (RFC 9112 §3.2).
        while index < head.count, head[index] > ASCII.space, head[index] < 0x7F {
            if head[index] == ASCII.questionMark, questionMark < 0 { questionMark = index }
            index += 1
        }
        guard index > targetStart, index < head.count, head[index] == ASCII.space else {
            return .failure(.badRequest("malformed request line: invalid request-target"))
        }
        let targetEnd = index
        index += 1
        // HTTP-version = HTTP-name "/" DIGIT "." DIGIT; HTTP-name = %s"HTTP" (RFC 9112 §2.3)
        guard index + 8 <= head.count,
            ASCII.equals(UnsafeRawBufferPointer(rebasing: head[index..<(index + 5)]), "HTTP/"),
            let major = Self.digit(head[index + 5]), head[index + 6] == UInt8(ascii: "."),
            let minor = Self.digit(head[index + 7])
        else {
            return .failure(.badRequest("malformed request line: invalid HTTP version"))
        }
        index += 8
        if index < head.count, head[index] == ASCII.carriageReturn { index += 1 }
        guard index < head.count, head[index] == ASCII.lineFeed else {
            return .failure(.badRequest("malformed request line"))
        }
        index += 1
        // RFC 9110 §2.5: a server "can send a 505 (HTTP Version Not Supported) response if it
        // wishes ... to refuse service of the client's major protocol version".
        guard major == 1 else {
            return .failure(.versionNotSupported("HTTP/\(major).\(minor) is not supported"))
        }
        let version = HTTPVersion(major: major, minor: minor)

        var facts = FieldFacts()
        var headers = HTTPHeaders(reservingCapacity: 8)
        if let error = parseFields(head, from: index, into: &headers, facts: &facts) { return .failure(error) }

        let isHTTP1_1 = version.isAtLeastHTTP1_1
        // RFC 9112 §3.2: "A server MUST respond with a 400 (Bad Request) status code to any
        // HTTP/1.1 request message that lacks a Host header field and to any request message that
        // contains more than one Host header field line".
        if facts.hostCount > 1 { return .failure(.badRequest("more than one Host field")) }
        if isHTTP1_1, facts.hostCount == 0 { return .failure(.badRequest("HTTP/1.1 request without Host")) }

        let framing: BodyFraming
        switch framingFrom(facts, isHTTP1_1: isHTTP1_1) {
        case .success(let value): framing = value
        case .failure(let error): return .failure(error)
        }

        let target = String(decoding: UnsafeRawBufferPointer(rebasing: head[targetStart..<targetEnd]), as: UTF8.self)
        let path: String
        let query: String?
        if head[targetStart] == ASCII.slash {
            if questionMark < 0 {
                path = target
                query = nil
            } else {
                path = String(decoding: UnsafeRawBufferPointer(rebasing: head[targetStart..<questionMark]), as: UTF8.self)
                query = String(decoding: UnsafeRawBufferPointer(rebasing: head[(questionMark + 1)..<targetEnd]), as: UTF8.self)
            }
        } else {
            (path, query) = HTTPRequestHead.split(target: target)
        }
        // RFC 9112 §9.3: HTTP/1.1 persists unless "close"; HTTP/1.0 only with "keep-alive".
        let keepAlive = !facts.connectionClose && (isHTTP1_1 || facts.connectionKeepAlive)
        let requestHead = HTTPRequestHead(
            method: method, target: target, path: path, query: query, version: version, headers: headers,
            keepAlive: keepAlive, isUpgradeRequest: isHTTP1_1 && facts.upgradeSeen && facts.connectionUpgrade
        )
        // RFC 9110 §10.1.1: "A server that receives a 100-continue expectation in an HTTP/1.0
        // request MUST ignore that expectation."
        let expectsContinue: Bool
        if case .none = framing { expectsContinue = false } else { expectsContinue = isHTTP1_1 && facts.expectContinue }
        return .success(ParsedHead(head: requestHead, framing: framing, expectsContinue: expectsContinue))
    }

    /// Parses field lines from `start` to the empty line; returns an error or nil.
    func parseFields(
        _ head: UnsafeRawBufferPointer, from start: Int, into headers: inout HTTPHeaders, facts: inout FieldFacts
    ) -> HTTPParseError? {
        var position = start
        while position < head.count {
            let first = head[position]
            if first == ASCII.lineFeed { return nil }
            if first == ASCII.carriageReturn {
                if position + 1 < head.count, head[position + 1] == ASCII.lineFeed { return nil }
                return .badRequest("bare CR in header section")
            }
            // RFC 9112 §5.2: "A server that receives an obs-fold in a request message ... MUST
            // either reject the message by sending a 400 (Bad Request)"; §2.2 treats whitespace
            // between the start-line and the first field the same way.
            if ASCII.isWhitespace(first) { return .badRequest("obsolete line folding or leading whitespace") }
            // field-line = field-name ":" OWS field-value OWS (RFC 9112 §5)
            let nameStart = position
            while position < head.count, ASCII.isTokenCharacter(head[position]) { position += 1 }
            guard position < head.count, head[position] == ASCII.colon else {
                // RFC 9112 §5.1: "No whitespace is allowed between the field name and colon. ... A
                // server MUST reject, with a response status code of 400 (Bad Request), any
                // received request message that contains whitespace between a header field name
                // and colon."
                return .badRequest("invalid header field name")
            }
            let nameEnd = position
            position += 1
            let valueStart = position
            guard let base = head.baseAddress,
                let found = memchr(base + position, Int32(ASCII.lineFeed), head.count - position)
            else { return .badRequest("unterminated header field") }
            let lineFeed = base.distance(to: UnsafeRawPointer(found))
            var valueEnd = lineFeed
            if valueEnd > valueStart, head[valueEnd - 1] == ASCII.carriageReturn { valueEnd -= 1 }
            // RFC 9110 §5.5: "a recipient of CR, LF, or NUL within a field value MUST either
            // reject the message or replace each of those characters with SP"; other CTLs are
            // not field-vchar either.
            guard ASCII.allFieldValueCharacters(head, valueStart..<valueEnd) else {
                return .badRequest("invalid character in header field value")
            }
            position = lineFeed + 1
            guard nameEnd > nameStart else { return .badRequest("empty header field name") }
            guard headers.count < limits.maxHeaderCount else {
                return .headTooLarge("more than \(limits.maxHeaderCount) header fields")
            }
            let name = UnsafeRawBufferPointer(rebasing: head[nameStart..<nameEnd])
            let value = UnsafeRawBufferPointer(rebasing: head[ASCII.trimWhitespace(head, valueStart..<valueEnd)])
            let (kind, nameString) = KnownFieldName.identify(name)
            if kind != .other, let error = Self.noteSpecialField(kind, value: value, facts: &facts) { return error }
            headers.add(nameString, String(decoding: value, as: UTF8.self))
        }
        return .badRequest("header section not terminated")
    }

    /// The method as a `String`, using literals for the registered methods so that the common
    /// case builds no string from bytes.
    static func methodString(_ bytes: UnsafeRawBufferPointer) -> String {
        switch bytes.count {
        case 3:
            if ASCII.equals(bytes, "GET") { return "GET" }
            if ASCII.equals(bytes, "PUT") { return "PUT" }
        case 4:
            if ASCII.equals(bytes, "POST") { return "POST" }
            if ASCII.equals(bytes, "HEAD") { return "HEAD" }
        case 5:
            if ASCII.equals(bytes, "PATCH") { return "PATCH" }
            if ASCII.equals(bytes, "TRACE") { return "TRACE" }
        case 6:
            if ASCII.equals(bytes, "DELETE") { return "DELETE" }
        case 7:
            if ASCII.equals(bytes, "OPTIONS") { return "OPTIONS" }
            if ASCII.equals(bytes, "CONNECT") { return "CONNECT" }
        default:
            break
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
