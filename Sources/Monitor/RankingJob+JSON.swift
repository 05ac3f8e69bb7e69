extension RankingJob {
    /// NDJSON: decodes the whole lines of `chunk` in place; the unfinished last line is carried.
    mutating func consumeLines(_ chunk: UnsafeRawBufferPointer) throws(TransactionFileError) {
        var position = 0
        if !carry.isEmpty {
            let newline = TransactionBatchDecoder.nextNewline(in: chunk, from: 0, to: chunk.count)
            let stop = min(newline + 1, chunk.count)
            carry.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[0..<stop]))
            guard carry.count <= maximumRecordBytes else { throw lineTooLong() }
            guard newline < chunk.count else { return }
            let pending = carry
            carry = []
            try withBytes(of: pending) { (buffer) throws(TransactionFileError) in try decodeLines(buffer) }
            position = stop
        }
        var lastNewline = chunk.count - 1
        while lastNewline >= position, chunk[lastNewline] != 0x0A { lastNewline -= 1 }
        if lastNewline >= position {
            try decodeLines(UnsafeRawBufferPointer(rebasing: chunk[position...lastNewline]))
            position = lastNewline + 1
        }
        guard chunk.count - position <= maximumRecordBytes else { throw lineTooLong() }
        carry.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[position..<chunk.count]))
    }

    private func lineTooLong() -> TransactionFileError {
        TransactionFileError(line: linesDone + 1, reason: "line longer than \(maximumRecordBytes) bytes")
    }

    /// Decodes whole NDJSON lines (the last may lack its line break only at the end of the file).
    mutating func decodeLines(_ region: UnsafeRawBufferPointer) throws(TransactionFileError) {
        // A byte order mark is allowed at the start of the file only (RFC 8259 §8.1).
        let hasByteOrderMark = region.count >= 3 && region[0] == 0xEF && region[1] == 0xBB && region[2] == 0xBF
        if hasByteOrderMark, linesDone > 0 {
            throw TransactionFileError(line: linesDone + 1, reason: "unexpected byte order mark")
        }
        switch decoder.decode(region, format: .ndjson, receivedAt: receivedAt) {
        case .failure(let error):
            throw Self.fileError(error, in: region, from: 0, line: linesDone + 1)
        case .success(let transactions):
            let firstLine = linesDone + 1
            for (index, transaction) in transactions.enumerated() {
                try apply(transaction, line: Self.lineOfTransaction(index, in: region, firstLine: firstLine))
            }
        }
        var newlines = 0
        var index = 0
        while index < region.count {
            index = TransactionBatchDecoder.nextNewline(in: region, from: index, to: region.count) + 1
            if index <= region.count { newlines += 1 }
        }
        linesDone += newlines
    }

    /// JSON: decodes one batch of array elements made by ``JSONArraySplitter``.
    mutating func decodeArray(
        _ batch: UnsafeRawBufferPointer, elements: [JSONArraySplitter.Element]
    ) throws(TransactionFileError) {
        switch decoder.decode(batch, format: .json, receivedAt: receivedAt) {
        case .failure(let error):
            let index = min(error.details.first?.index ?? 0, elements.count - 1)
            let element = elements[max(index, 0)]
            throw Self.fileError(error, in: batch, from: element.offset, line: element.line)
        case .success(let transactions):
            for (index, transaction) in transactions.enumerated() {
                let element = elements[min(index, elements.count - 1)]
                let start = element.offset
                try apply(
                    transaction,
                    line: Self.locate(Self.firstContent(in: batch, from: start), in: batch, from: start, line: element.line)
                        .line)
            }
        }
    }

    /// Turns the decoder's first detail into a file error; `start` is on line `line`.
    ///
    /// The decoder counts NDJSON lines from the region's start and gives syntax errors as byte
    /// offsets into the body it was handed; both are translated to the file's lines and columns.
    static func fileError(
        _ error: TransactionValidationError, in buffer: UnsafeRawBufferPointer, from start: Int, line: Int
    ) -> TransactionFileError {
        guard let detail = error.details.first else {
            return TransactionFileError(line: line, reason: error.message)
        }
        let field = detail.field.isEmpty ? nil : detail.field
        if let marker = detail.reason.firstRange(of: " at byte "),
            let offset = Int(detail.reason[marker.upperBound...])
        {
            let location = locate(min(offset, buffer.count), in: buffer, from: start, line: line)
            return TransactionFileError(
                line: location.line, field: field,
                reason: "\(detail.reason[..<marker.lowerBound]) (column \(location.column))")
        }
        if let relative = detail.line {
            return TransactionFileError(line: line - 1 + relative, field: field, reason: detail.reason)
        }
        let location = locate(firstContent(in: buffer, from: start), in: buffer, from: start, line: line)
        return TransactionFileError(line: location.line, field: field, reason: detail.reason)
    }

    /// The line of the `index`-th transaction of an NDJSON region (blank lines hold none).
    static func lineOfTransaction(_ index: Int, in region: UnsafeRawBufferPointer, firstLine: Int) -> Int {
        var remaining = index
        var line = firstLine
        var lineStart = 0
        while lineStart < region.count {
            let lineEnd = TransactionBatchDecoder.nextNewline(in: region, from: lineStart, to: region.count)
            if !region[lineStart..<lineEnd].allSatisfy(JSONArraySplitter.isWhitespace) {
                if remaining == 0 { return line }
                remaining -= 1
            }
            line += 1
            lineStart = lineEnd + 1
        }
        return line
    }

    /// The line and 1-based byte column of `offset`, counting from `start` on line `line`.
    static func locate(
        _ offset: Int, in buffer: UnsafeRawBufferPointer, from start: Int, line: Int
    ) -> (line: Int, column: Int) {
        var line = line
        var lineStart = start
        var index = start
        while index < offset {
            if buffer[index] == 0x0A {
                line += 1
                lineStart = index + 1
            }
            index += 1
        }
        return (line, offset - lineStart + 1)
    }

    /// The offset of the first byte from `start` that is not JSON whitespace.
    static func firstContent(in buffer: UnsafeRawBufferPointer, from start: Int) -> Int {
        var index = start
        while index < buffer.count, JSONArraySplitter.isWhitespace(buffer[index]) { index += 1 }
        return index
    }
}
