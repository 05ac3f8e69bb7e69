#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Incremental sans-I/O HTTP/1.1 request parser (RFC 9112). Feed it the bytes you have; it
/// consumes what it can.
///
/// Contract: the caller owns a buffer of unconsumed bytes. Each call passes that whole buffer; the
/// parser answers how many leading bytes it consumed, and the caller drops them and appends what it
/// reads next. The head is consumed only once complete, so an incomplete head is left in the
/// caller's buffer; the parser remembers how far it already searched and never rescans it. Body
/// bytes are consumed as they arrive into an internal buffer that exists only while a body is in
/// progress. The parser never consumes past the end of a request, so after `.request` the caller's
/// remaining bytes are the next pipelined request or, after an upgrade, another protocol.
///
/// Line endings: RFC 9112 §2.2 says "a recipient MAY recognize a single LF as a line terminator
/// and ignore any preceding CR"; this parser does, in the head, chunk lines and trailers. A bare
/// CR anywhere else is rejected with 400 ("A recipient of such a bare CR MUST consider that
/// element to be invalid").
///
/// After an `.error` the parser stays failed; answer with the status and close the connection.
public struct HTTPRequestParser: Sendable {
    /// Where in a request the parser is.
    enum State: Sendable {
        case head
        case fixedBody(remaining: Int)
        case chunkSizeLine
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers(size: Int)
        case failed(HTTPParseError)
    }

    /// What follows the head (RFC 9112 §6.3).
    enum BodyFraming {
        case none
        case length(Int)
        case chunked
    }

    /// The limits in force.
    public let limits: HTTPParserLimits
    var state: State = .head
    /// How many bytes at the start of the caller's buffer were already searched for a line end.
    var scanned = 0
    /// The head of the request whose body is in progress.
    var pendingHead: HTTPRequestHead?
    /// The body collected so far; empty (and unallocated) between requests.
    var body: [UInt8] = []
    /// Whether the pending request asked for `100-continue` and it was not yet signalled.
    var continuePending = false
    /// The body limit of the request in progress: the admission's, never above `limits.maxBodySize`.
    var bodyLimit: Int

    /// Creates a parser with `limits`.
    public init(limits: HTTPParserLimits = .init()) {
        self.limits = limits
        self.bodyLimit = limits.maxBodySize
    }

    /// Whether the parser is between requests with nothing seen of the next one.
    public var isIdle: Bool {
        if case .head = state { return scanned == 0 }
        return false
    }

    /// Parses as much of `bytes` (the caller's whole unconsumed buffer) as possible.
    ///
    /// `admit` is asked once per request that announces a body (`Content-Length` above 0 or
    /// chunked), as soon as its head is complete and before any body byte is read or `100
    /// Continue` is signalled: a server decides route, method, authentication, media type and the
    /// route's body limit from the head, so a request it will refuse costs no body buffering.
    public mutating func parse(
        _ bytes: UnsafeRawBufferPointer, admit: (HTTPRequestHead) -> HTTPRequestAdmission = { _ in .accept(maxBodySize: .max) }
    ) -> HTTPParseResult {
        var offset = 0
        if case .failed(let error) = state { return .error(error) }
        if case .head = state {
            // RFC 9112 §2.2: "a server that is expecting to receive and parse a request-line SHOULD
            // ignore at least one empty line (CRLF) received prior to the request-line."
            if scanned == 0 {
                while offset < bytes.count {
                    if bytes[offset] == ASCII.lineFeed {
                        offset += 1
                    } else if bytes[offset] == ASCII.carriageReturn {
                        guard offset + 1 < bytes.count else { return .needMore(consumed: offset, sendContinue: false) }
                        guard bytes[offset + 1] == ASCII.lineFeed else { break }
                        offset += 2
                    } else {
                        break
                    }
                }
            }
            let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
            guard let headEnd = findHeadEnd(rest) else {
                if rest.count > limits.maxHeadSize {
                    return fail(.headTooLarge("request head exceeds \(limits.maxHeadSize) bytes"))
                }
                return .needMore(consumed: offset, sendContinue: false)
            }
            scanned = 0
            guard headEnd <= limits.maxHeadSize else {
                return fail(.headTooLarge("request head exceeds \(limits.maxHeadSize) bytes"))
            }
            let parsed: ParsedHead
            switch parseHead(UnsafeRawBufferPointer(rebasing: rest[..<headEnd])) {
            case .success(let value): parsed = value
            case .failure(let error): return fail(error)
            }
            offset += headEnd
            if case .none = parsed.framing {
                return .request(HTTPRequest(head: parsed.head, body: []), consumed: offset)
            }
            switch admit(parsed.head) {
            case .refuse:
                state = .failed(.badRequest("the request was refused"))
                return .refused(parsed.head, consumed: offset)
            case .accept(let maxBodySize):
                bodyLimit = min(maxBodySize, limits.maxBodySize)
            }
            switch parsed.framing {
            case .none:
                return .request(HTTPRequest(head: parsed.head, body: []), consumed: offset)
            case .length(let length):
                // RFC 9110 §15.5.14: 413 when the content is larger than the server will process.
                guard length <= bodyLimit else {
                    return fail(.contentTooLarge("body of \(length) bytes exceeds \(bodyLimit)"))
                }
                let available = bytes.count - offset
                if available >= length {
                    // Fast path: the whole body is already here; copy it once.
                    let body = [UInt8](UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)]))
                    return .request(HTTPRequest(head: parsed.head, body: body), consumed: offset + length)
                }
                body.reserveCapacity(length)
                state = .fixedBody(remaining: length)
            case .chunked:
                state = .chunkSizeLine
            }
            pendingHead = parsed.head
            continuePending = parsed.expectsContinue
        }
        return parseBody(bytes, from: offset)
    }

    /// Advances through body states from `offset` until the request completes or input runs out.
    mutating func parseBody(_ bytes: UnsafeRawBufferPointer, from start: Int) -> HTTPParseResult {
        var offset = start
        while true {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
            switch state {
            case .head, .failed:
                return .needMore(consumed: offset, sendContinue: false)
            case .fixedBody(let remaining):
                let taken = min(remaining, rest.count)
                body.append(contentsOf: UnsafeRawBufferPointer(rebasing: rest[..<taken]))
                offset += taken
                if taken == remaining { return complete(consumed: offset) }
                state = .fixedBody(remaining: remaining - taken)
                return needMore(consumed: offset)
            case .chunkSizeLine:
                switch parseChunkSizeLine(rest) {
                case .needMore: return needMore(consumed: offset)
                case .failure(let error): return fail(error)
                case .line(let length, let size):
                    offset += length
                    state = size == 0 ? .trailers(size: 0) : .chunkData(remaining: size)
                }
            case .chunkData(let remaining):
                let taken = min(remaining, rest.count)
                body.append(contentsOf: UnsafeRawBufferPointer(rebasing: rest[..<taken]))
                offset += taken
                guard taken == remaining else {
                    state = .chunkData(remaining: remaining - taken)
                    return needMore(consumed: offset)
                }
                state = .chunkDataEnd
            case .chunkDataEnd:
                // chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF (RFC 9112 §7.1)
                guard let first = rest.first else { return needMore(consumed: offset) }
                if first == ASCII.lineFeed {
                    offset += 1
                } else if first == ASCII.carriageReturn {
                    guard rest.count >= 2 else { return needMore(consumed: offset) }
                    guard rest[1] == ASCII.lineFeed else { return fail(.badRequest("chunk data not followed by CRLF")) }
                    offset += 2
                } else {
                    return fail(.badRequest("chunk data longer than its chunk-size"))
                }
                state = .chunkSizeLine
            case .trailers(let size):
                switch parseTrailerLine(rest, sizeSoFar: size) {
                case .needMore: return needMore(consumed: offset)
                case .failure(let error): return fail(error)
                case .line(let length, let isLast):
                    offset += length
                    if isLast { return complete(consumed: offset) }
                    state = .trailers(size: size + length)
                }
            }
        }
    }

    /// Finds the end of the head (just past the empty line) in `bytes`, resuming where the last
    /// search stopped; nil when it is not there yet or lies beyond the head limit.
    mutating func findHeadEnd(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard let base = bytes.baseAddress else { return nil }
        let searchLimit = min(bytes.count, limits.maxHeadSize)
        var position = scanned
        while position < searchLimit {
            guard let found = memchr(base + position, Int32(ASCII.lineFeed), searchLimit - position) else {
                position = searchLimit
                break
            }
            let lineFeed = base.distance(to: UnsafeRawPointer(found))
            guard lineFeed + 1 < bytes.count else {
                position = lineFeed
                break
            }
            let next = bytes[lineFeed + 1]
            if next == ASCII.lineFeed { return lineFeed + 2 }
            if next == ASCII.carriageReturn {
                guard lineFeed + 2 < bytes.count else {
                    position = lineFeed
                    break
                }
                if bytes[lineFeed + 2] == ASCII.lineFeed { return lineFeed + 3 }
            }
            position = lineFeed + 1
        }
        scanned = position
        return nil
    }

    /// Returns the completed request and resets for the next one, releasing the body buffer.
    mutating func complete(consumed: Int) -> HTTPParseResult {
        var finishedBody: [UInt8] = []
        swap(&finishedBody, &body)
        let head = pendingHead ?? HTTPRequestHead(method: "GET", target: "/")
        pendingHead = nil
        continuePending = false
        bodyLimit = limits.maxBodySize
        state = .head
        scanned = 0
        return .request(HTTPRequest(head: head, body: finishedBody), consumed: consumed)
    }

    /// `.needMore`, signalling `100-continue` the first time a body is still expected.
    mutating func needMore(consumed: Int) -> HTTPParseResult {
        let sendContinue = continuePending
        continuePending = false
        return .needMore(consumed: consumed, sendContinue: sendContinue)
    }

    /// Enters the failed state and returns the error.
    mutating func fail(_ error: HTTPParseError) -> HTTPParseResult {
        state = .failed(error)
        pendingHead = nil
        body = []
        return .error(error)
    }
}
