/// Body framing (RFC 9112 §6) and the fields that decide it and the connection's fate.
extension HTTPRequestParser {
    /// Chooses the body framing from the collected fields (RFC 9112 §6.3).
    func framingFrom(_ facts: FieldFacts, isHTTP1_1: Bool) -> Result<BodyFraming, HTTPParseError> {
        if facts.transferEncodingSeen {
            // RFC 9112 §6.1: "A server or client that receives an HTTP/1.0 message containing a
            // Transfer-Encoding header field MUST treat the message as if the framing is faulty".
            guard isHTTP1_1 else { return .failure(.badRequest("Transfer-Encoding in an HTTP/1.0 request")) }
            // RFC 9112 §6.3: "A server MAY reject a request that contains both Content-Length and
            // Transfer-Encoding". Rejecting closes the request-smuggling door.
            guard facts.contentLength == nil else {
                return .failure(.badRequest("both Transfer-Encoding and Content-Length"))
            }
            // RFC 9112 §6.3: "If a Transfer-Encoding header field is present in a request and the
            // chunked transfer coding is not the final encoding, ... the server MUST respond with
            // the 400 (Bad Request) status code and then close the connection."
            guard facts.lastCodingIsChunked else { return .failure(.badRequest("chunked is not the final transfer coding")) }
            // RFC 9112 §6.1: "A sender MUST NOT apply the chunked transfer coding more than once".
            guard facts.chunkedCount == 1 else { return .failure(.badRequest("chunked applied more than once")) }
            // RFC 9112 §6.1: "A server that receives a request message with a transfer coding it
            // does not understand SHOULD respond with 501 (Not Implemented)."
            guard !facts.otherCodingSeen else { return .failure(.notImplemented("unsupported transfer coding")) }
            return .success(.chunked)
        }
        guard let length = facts.contentLength, length > 0 else { return .success(.none) }
        guard length <= limits.maxBodySize else {
            return .failure(.contentTooLarge("body of \(length) bytes exceeds \(limits.maxBodySize)"))
        }
        return .success(.length(length))
    }

    /// Records what a framing- or connection-relevant field says; returns an error for bad values.
    static func noteSpecialField(
        _ kind: KnownFieldName, value: UnsafeRawBufferPointer, facts: inout FieldFacts
    ) -> HTTPParseError? {
        switch kind {
        case .host:
            facts.hostCount += 1
            // Host = uri-host [ ":" port ] (RFC 9110 §7.2): reg-name, IP literal, or IPv4 characters.
            for byte in value where !ASCII.isHostCharacter(byte) {
                return .badRequest("invalid Host field value")
            }
        case .expect:
            forEachListElement(value) { element in
                if ASCII.equalsIgnoringCase(element, "100-continue") { facts.expectContinue = true }
            }
        case .upgrade:
            facts.upgradeSeen = true
        case .connection:
            forEachListElement(value) { element in
                if ASCII.equalsIgnoringCase(element, "close") { facts.connectionClose = true }
                if ASCII.equalsIgnoringCase(element, "keep-alive") { facts.connectionKeepAlive = true }
                if ASCII.equalsIgnoringCase(element, "upgrade") { facts.connectionUpgrade = true }
            }
        case .contentLength:
            return noteContentLength(value, facts: &facts)
        case .transferEncoding:
            return noteTransferEncoding(value, facts: &facts)
        case .other:
            break
        }
        return nil
    }

    /// `Content-Length = 1*DIGIT` (RFC 9110 §8.6), allowing a list of identical values.
    ///
    /// RFC 9110 §8.6: a recipient of "Content-Length: 42, 42" MAY "replace that invalid field value
    /// with a single instance of the decimal value"; differing values are invalid framing and
    /// RFC 9112 §6.3 requires a 400. Values beyond `Int.max` saturate (and then exceed the limit).
    static func noteContentLength(_ value: UnsafeRawBufferPointer, facts: inout FieldFacts) -> HTTPParseError? {
        // Fast path: a first, short, all-digit value (the usual case) needs no list handling;
        // at most 18 digits cannot overflow.
        if facts.contentLength == nil, !value.isEmpty, value.count <= 18 {
            var length = 0
            var allDigits = true
            for byte in value {
                let digit = byte &- UInt8(ascii: "0")
                if digit >= 10 {
                    allDigits = false
                    break
                }
                length = length &* 10 &+ Int(digit)
            }
            if allDigits {
                facts.contentLength = length
                return nil
            }
        }
        var error: HTTPParseError?
        var sawElement = false
        forEachListElement(value, skipEmpty: false) { element in
            guard error == nil else { return }
            guard !element.isEmpty else {
                error = .badRequest("invalid Content-Length")
                return
            }
            var length = 0
            for byte in element {
                guard let digit = digit(byte) else {
                    error = .badRequest("invalid Content-Length")
                    return
                }
                let (times10, overflow1) = length.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times10.addingReportingOverflow(digit)
                length = overflow1 || overflow2 ? Int.max : sum
            }
            if let previous = facts.contentLength, previous != length {
                error = .badRequest("conflicting Content-Length values")
                return
            }
            facts.contentLength = length
            sawElement = true
        }
        if error == nil, !sawElement { error = .badRequest("invalid Content-Length") }
        return error
    }

    /// `Transfer-Encoding = #transfer-coding`, `transfer-coding = token *( OWS ";" OWS
    /// transfer-parameter )` (RFC 9112 §6.1).
    static func noteTransferEncoding(_ value: UnsafeRawBufferPointer, facts: inout FieldFacts) -> HTTPParseError? {
        facts.transferEncodingSeen = true
        var error: HTTPParseError?
        forEachListElement(value) { element in
            var end = 0
            while end < element.count, ASCII.isTokenCharacter(element[end]) { end += 1 }
            guard end > 0, end == element.count || element[end] == ASCII.semicolon || ASCII.isWhitespace(element[end]) else {
                error = error ?? .badRequest("invalid Transfer-Encoding")
                return
            }
            if ASCII.equalsIgnoringCase(UnsafeRawBufferPointer(rebasing: element[0..<end]), "chunked") {
                facts.chunkedCount += 1
                facts.lastCodingIsChunked = true
            } else {
                facts.otherCodingSeen = true
                facts.lastCodingIsChunked = false
            }
        }
        return error
    }

    /// Calls `body` with each comma-separated element of `value`, trimmed of OWS.
    static func forEachListElement(
        _ value: UnsafeRawBufferPointer, skipEmpty: Bool = true, _ body: (UnsafeRawBufferPointer) -> Void
    ) {
        var start = 0
        while start <= value.count {
            var end = start
            while end < value.count, value[end] != ASCII.comma { end += 1 }
            let element = ASCII.trimWhitespace(value, start..<end)
            if !(skipEmpty && element.isEmpty) { body(UnsafeRawBufferPointer(rebasing: value[element])) }
            start = end + 1
        }
    }

    /// The value of an ASCII digit, or nil.
    @inline(__always)
    static func digit(_ byte: UInt8) -> Int? {
        byte &- 0x30 < 10 ? Int(byte &- 0x30) : nil
    }
}
