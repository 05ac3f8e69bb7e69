/// Splits a JSON array (or one top-level object) arriving in chunks into batches of whole
/// elements, so that a file of any size is decoded with bounded memory.
///
/// It tracks only what it needs to find element boundaries (RFC 8259 §2: nesting of `[]`/`{}`
/// and strings with their `\` escapes); full validation is left to ``TransactionDecoder``, which
/// each batch is handed to as the JSON array `[e1,e2,…]`. Each element's offset in the batch and
/// the line its text starts on are kept, so errors can name the line.
struct JSONArraySplitter: Sendable {
    /// An element of the current batch: where its text starts in ``batch`` and on which line.
    struct Element: Sendable {
        var offset: Int
        var line: Int
    }

    enum Phase: Sendable {
        /// Before the top-level `[` or `{` (whitespace and a byte order mark allowed).
        case start
        /// Inside the array, reading an element's text (leading whitespace included).
        case element
        /// After the closing `]`, or after a top-level object: only whitespace allowed.
        case end
    }

    /// A batch is handed over once it holds at least this many bytes.
    let batchBytes: Int
    /// Longest accepted element in bytes.
    let maximumElementBytes: Int
    var phase = Phase.start
    /// The line of the byte being scanned, from 1.
    var line = 1
    /// Bytes seen so far (to recognise a byte order mark at the very start).
    var offset = 0
    var isTopLevelObject = false
    var depth = 0
    var inString = false
    var escaped = false
    /// `[` followed by the complete elements, each followed by `,`, then the current element's text.
    var batch: [UInt8] = [UInt8(ascii: "[")]
    var elements: [Element] = []

    init(batchBytes: Int = 1 << 20, maximumElementBytes: Int = 1 << 20) {
        self.batchBytes = batchBytes
        self.maximumElementBytes = maximumElementBytes
        batch.reserveCapacity(batchBytes + 4096)
    }

    /// Scans `chunk`; calls `emit` with each full batch (a JSON array) and its elements.
    mutating func consume(
        _ chunk: UnsafeRawBufferPointer,
        _ emit: (UnsafeRawBufferPointer, [Element]) throws(TransactionFileError) -> Void
    ) throws(TransactionFileError) {
        var runStart = 0  // Start of the element text not yet copied into `batch`.
        var index = 0
        while index < chunk.count {
            let byte = chunk[index]
            defer {
                if byte == 0x0A { line += 1 }
                offset += 1
            }
            switch phase {
            case .start:
                if Self.isWhitespace(byte) || (offset < 3 && byte == [0xEF, 0xBB, 0xBF][offset]) {
                    index += 1
                    continue
                }
                if byte == UInt8(ascii: "[") {
                    beginElement(runStart: &runStart, at: index + 1)
                } else if byte == UInt8(ascii: "{") {
                    isTopLevelObject = true
                    beginElement(runStart: &runStart, at: index)
                    depth = 1  // The brace is the element's first byte.
                } else {
                    throw TransactionFileError(line: line, reason: "expected a JSON array or object")
                }
            case .element:
                if inString {
                    if escaped {
                        escaped = false
                    } else if byte == UInt8(ascii: "\\") {
                        escaped = true
                    } else if byte == UInt8(ascii: "\"") {
                        inString = false
                    }
                } else if !Self.isWhitespace(byte) {
                    switch byte {
                    case UInt8(ascii: "\""): inString = true
                    case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                    case UInt8(ascii: "}"), UInt8(ascii: "]"):
                        if depth > 0 {
                            depth -= 1
                            if isTopLevelObject, depth == 0 {
                                try endElement(chunk, runStart: runStart, end: index + 1, last: true, emit)
                            }
                        } else if byte == UInt8(ascii: "]"), !isTopLevelObject {
                            try endElement(chunk, runStart: runStart, end: index, last: true, emit)
                        } else {
                            throw TransactionFileError(line: line, reason: "unexpected '}' in the JSON array")
                        }
                    case UInt8(ascii: ","):
                        if depth == 0, !isTopLevelObject {
                            try endElement(chunk, runStart: runStart, end: index, last: false, emit)
                            beginElement(runStart: &runStart, at: index + 1)
                        }
                    default: break
                    }
                }
            case .end:
                guard Self.isWhitespace(byte) else {
                    throw TransactionFileError(line: line, reason: "unexpected data after the end of the JSON value")
                }
            }
            index += 1
        }
        if phase == .element {
            batch.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[runStart..<chunk.count]))
            try checkElementSize()
        }
    }

    /// Ends the input: hands over the last batch; throws if the array is not closed.
    mutating func finish(
        _ emit: (UnsafeRawBufferPointer, [Element]) throws(TransactionFileError) -> Void
    ) throws(TransactionFileError) {
        switch phase {
        case .start:
            throw TransactionFileError(line: nil, reason: "the file is empty; expected a JSON array of transactions")
        case .element:
            throw TransactionFileError(line: line, reason: "unexpected end of the file inside the JSON value")
        case .end:
            try flush(emit)
        }
    }

    @inline(__always)
    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    private mutating func beginElement(runStart: inout Int, at index: Int) {
        phase = .element
        runStart = index
        depth = 0
        elements.append(Element(offset: batch.count, line: line))
    }

    /// Copies the rest of the element's text, then closes the batch entry with `,`.
    private mutating func endElement(
        _ chunk: UnsafeRawBufferPointer, runStart: Int, end: Int, last: Bool,
        _ emit: (UnsafeRawBufferPointer, [Element]) throws(TransactionFileError) -> Void
    ) throws(TransactionFileError) {
        batch.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[runStart..<end]))
        try checkElementSize()
        let start = elements.last?.offset ?? 1
        let isBlank = batch[start...].allSatisfy(Self.isWhitespace)
        if isBlank {
            // `[]` is an empty array; `[1,]`, `[,1]` and `[1,,2]` miss a value.
            guard last, elements.count == 1 else {
                throw TransactionFileError(line: line, reason: "expected a value in the JSON array")
            }
            batch.removeSubrange(start...)
            elements.removeLast()
        } else {
            batch.append(UInt8(ascii: ","))
        }
        if last {
            phase = .end
        } else if batch.count >= batchBytes {
            try flush(emit)
        }
    }

    private func checkElementSize() throws(TransactionFileError) {
        let start = elements.last?.offset ?? 1
        guard batch.count - start <= maximumElementBytes else {
            let line = elements.last?.line ?? line
            throw TransactionFileError(line: line, reason: "array element longer than \(maximumElementBytes) bytes")
        }
    }

    /// Hands over the complete elements as one JSON array and starts a new batch.
    private mutating func flush(
        _ emit: (UnsafeRawBufferPointer, [Element]) throws(TransactionFileError) -> Void
    ) throws(TransactionFileError) {
        guard !elements.isEmpty else { return }
        batch[batch.count - 1] = UInt8(ascii: "]")
        try withBytes(of: batch) { (buffer) throws(TransactionFileError) in try emit(buffer, elements) }
        batch.removeAll(keepingCapacity: true)
        batch.append(UInt8(ascii: "["))
        elements.removeAll(keepingCapacity: true)
    }
}
