#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The chunked transfer coding (RFC 9112 §7.1):
///
///     chunked-body   = *chunk last-chunk trailer-section CRLF
///     chunk          = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
///     chunk-size     = 1*HEXDIG
///     last-chunk     = 1*("0") [ chunk-ext ] CRLF
///     chunk-ext      = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
///     chunk-ext-val  = token / quoted-string
extension HTTPRequestParser {
    /// The outcome of reading a chunk-size line.
    enum ChunkLineResult {
        case needMore
        case failure(HTTPParseError)
        /// A complete line of `length` bytes (terminator included) announcing `size` data bytes.
        case line(length: Int, size: Int)
    }

    /// The outcome of reading one trailer-section line.
    enum TrailerLineResult {
        case needMore
        case failure(HTTPParseError)
        /// A complete line of `length` bytes; `isLast` for the empty line ending the body.
        case line(length: Int, isLast: Bool)
    }

    /// Finds the next LF in `bytes` at or after `scanned`, remembering progress when absent.
    mutating func findLineFeed(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard let base = bytes.baseAddress, scanned < bytes.count,
            let found = memchr(base + scanned, Int32(ASCII.lineFeed), bytes.count - scanned)
        else {
            scanned = bytes.count
            return nil
        }
        scanned = 0
        return base.distance(to: UnsafeRawPointer(found))
    }

    /// Reads `chunk-size [ chunk-ext ] CRLF` at the start of `bytes`.
    mutating func parseChunkSizeLine(_ bytes: UnsafeRawBufferPointer) -> ChunkLineResult {
        guard let lineFeed = findLineFeed(bytes) else {
            return bytes.count > limits.maxChunkLineSize ? .failure(.badRequest("chunk-size line too long")) : .needMore
        }
        guard lineFeed < limits.maxChunkLineSize else { return .failure(.badRequest("chunk-size line too long")) }
        var end = lineFeed
        if end > 0, bytes[end - 1] == ASCII.carriageReturn { end -= 1 }
        let line = UnsafeRawBufferPointer(rebasing: bytes[0..<end])
        var index = 0
        var size = 0
        while index < line.count, let digit = ASCII.hexValue(line[index]) {
            // Checked before shifting: a size that does not fit is malformed, never a trap.
            guard size <= Int.max >> 4 else { return .failure(.badRequest("chunk-size overflows")) }
            size = size << 4 | Int(digit)
            index += 1
        }
        guard index > 0 else { return .failure(.badRequest("missing chunk-size")) }
        guard Self.validChunkExtensions(line, from: index) else {
            return .failure(.badRequest("malformed chunk extension"))
        }
        guard size <= bodyLimit - body.count else {
            return .failure(.contentTooLarge("chunked body exceeds \(bodyLimit) bytes"))
        }
        return .line(length: lineFeed + 1, size: size)
    }

    /// Reads one line of the trailer section; the empty line ends the message.
    ///
    /// RFC 9112 §7.1.2: "A recipient that removes the chunked coding from a message MAY
    /// selectively retain or discard the received trailer fields." Trailers are validated as
    /// field lines and discarded; their total size counts against `maxHeadSize` (431).
    mutating func parseTrailerLine(_ bytes: UnsafeRawBufferPointer, sizeSoFar: Int) -> TrailerLineResult {
        guard let lineFeed = findLineFeed(bytes) else {
            return bytes.count > limits.maxHeadSize - sizeSoFar ? .failure(.headTooLarge("trailer section too large")) : .needMore
        }
        guard lineFeed + 1 <= limits.maxHeadSize - sizeSoFar else {
            return .failure(.headTooLarge("trailer section too large"))
        }
        var end = lineFeed
        if end > 0, bytes[end - 1] == ASCII.carriageReturn { end -= 1 }
        if end == 0 { return .line(length: lineFeed + 1, isLast: true) }
        var index = 0
        while index < end, ASCII.isTokenCharacter(bytes[index]) { index += 1 }
        guard index > 0, index < end, bytes[index] == ASCII.colon else {
            return .failure(.badRequest("invalid trailer field"))
        }
        for position in (index + 1)..<end where !ASCII.isFieldValueCharacter(bytes[position]) {
            return .failure(.badRequest("invalid character in trailer field value"))
        }
        return .line(length: lineFeed + 1, isLast: false)
    }

    /// Validates `*( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )` from `start` to
    /// the end of `line`. Extensions are ignored once valid ("A recipient MUST ignore unrecognized
    /// chunk extensions", RFC 9112 §7.1.1).
    static func validChunkExtensions(_ line: UnsafeRawBufferPointer, from start: Int) -> Bool {
        var index = start
        func skipWhitespace() {
            while index < line.count, ASCII.isWhitespace(line[index]) { index += 1 }
        }
        func skipToken() -> Bool {
            let tokenStart = index
            while index < line.count, ASCII.isTokenCharacter(line[index]) { index += 1 }
            return index > tokenStart
        }
        while index < line.count {
            skipWhitespace()
            guard index < line.count, line[index] == ASCII.semicolon else { return false }
            index += 1
            skipWhitespace()
            guard skipToken() else { return false }
            skipWhitespace()
            guard index < line.count else { return true }
            guard line[index] == ASCII.equals else { continue }
            index += 1
            skipWhitespace()
            if index < line.count, line[index] == ASCII.doubleQuote {
                guard let end = quotedStringEnd(line, from: index) else { return false }
                index = end
            } else if !skipToken() {
                return false
            }
        }
        return true
    }

    /// The index after the `quoted-string` starting at `start` (RFC 9110 §5.6.4), or nil.
    ///
    ///     quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE
    ///     qdtext        = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
    ///     quoted-pair   = "\" ( HTAB / SP / VCHAR / obs-text )
    static func quotedStringEnd(_ line: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var index = start + 1
        while index < line.count {
            let byte = line[index]
            if byte == ASCII.doubleQuote { return index + 1 }
            if byte == ASCII.backslash {
                index += 1
                guard index < line.count, ASCII.isFieldValueCharacter(line[index]) else { return nil }
            } else if !ASCII.isFieldValueCharacter(byte) {
                return nil
            }
            index += 1
        }
        return nil
    }
}
