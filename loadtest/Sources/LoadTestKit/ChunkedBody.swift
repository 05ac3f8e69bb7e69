/// Decodes a chunked message body (RFC 9112 §7.1) from the start of a buffer.
enum ChunkedBody {
    enum Outcome: Equatable {
        case incomplete
        case complete([UInt8], length: Int)
        case invalid(String)
    }

    /// `chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF`, ended by a zero-size chunk, optional
    /// trailer fields and CRLF.
    static func parse(_ bytes: UnsafeRawBufferPointer, limit: Int) -> Outcome {
        var body: [UInt8] = []
        var index = 0
        while true {
            guard let lineEnd = findCRLF(bytes, from: index) else {
                return bytes.count - index > 1024 ? .invalid("chunk size line too long") : .incomplete
            }
            var size = 0
            var digits = 0
            var cursor = index
            while cursor < lineEnd, let value = hexValue(bytes[cursor]) {
                guard size <= (limit >> 4) else { return .invalid("chunk too large") }
                size = size << 4 | value
                digits += 1
                cursor += 1
            }
            guard digits > 0 else { return .invalid("bad chunk size") }
            index = lineEnd + 2
            if size == 0 {
                // Trailer section: fields until an empty line.
                while true {
                    guard let end = findCRLF(bytes, from: index) else { return .incomplete }
                    let empty = end == index
                    index = end + 2
                    if empty { return .complete(body, length: index) }
                }
            }
            guard body.count + size <= limit else { return .invalid("chunked body too large") }
            guard bytes.count - index >= size + 2 else { return .incomplete }
            body.append(contentsOf: bytes[index..<(index + size)])
            index += size
            guard bytes[index] == 13, bytes[index + 1] == 10 else { return .invalid("missing CRLF after chunk") }
            index += 2
        }
    }

    static func findCRLF(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var index = start
        while index + 1 < bytes.count {
            if bytes[index] == 13 && bytes[index + 1] == 10 { return index }
            index += 1
        }
        return nil
    }

    static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case 48...57: Int(byte - 48)
        case 97...102: Int(byte - 87)
        case 65...70: Int(byte - 55)
        default: nil
        }
    }
}
