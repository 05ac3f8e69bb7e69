/// Sans-I/O, incremental RESP2 decoder: fed bytes in arbitrary pieces, it returns whole values.
///
/// `decode(_:)` consumes what it can of the bytes it is given: complete values, and also the
/// complete parts of a value still being received (finished elements of an array, the bytes of a
/// long bulk string so far), which it keeps. So a large reply arriving in many reads is parsed
/// once, not again from its start on every read. Only an incomplete header line is left
/// unconsumed; the caller offers it again with more bytes appended (as `Reactor` does with a
/// handler's unconsumed input).
///
/// Strict and bounded: every length is checked against its bound before anything is allocated
/// for it; malformed input is a `RESPDecodingError`, never a trap. After an error the decoder
/// (and the connection it reads) must be discarded.
public struct RESPDecoder: Sendable {
    /// Bounds on what one reply may contain.
    public struct Limits: Sendable, Equatable {
        /// Longest bulk string, 512 MiB: Redis's own `proto-max-bulk-len` default.
        public var maxBulkLength: Int
        /// Most elements of one array.
        public var maxArrayLength: Int
        /// Deepest array nesting (a stream reply is 4 levels deep).
        public var maxDepth: Int
        /// Longest header or status line, CRLF excluded.
        public var maxLineLength: Int

        /// The defaults: 512 MiB bulk, 16 Mi elements, depth 32, 64 KiB lines.
        public init(maxBulkLength: Int = 512 << 20, maxArrayLength: Int = 16 << 20, maxDepth: Int = 32, maxLineLength: Int = 64 << 10) {
            self.maxBulkLength = maxBulkLength
            self.maxArrayLength = maxArrayLength
            self.maxDepth = maxDepth
            self.maxLineLength = maxLineLength
        }
    }

    /// An array whose elements are still arriving.
    private struct PartialArray: Sendable {
        var remaining: Int
        var elements: [RESPValue]
    }

    /// The bounds in force.
    public let limits: Limits
    private var stack: [PartialArray] = []
    /// The payload so far of a bulk string being received, and how many payload bytes remain.
    private var bulk: [UInt8] = []
    private var bulkRemaining = -1

    /// A decoder with `limits`.
    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Whether part of a value has been consumed and kept (the decoder is mid-value).
    public var isMidValue: Bool { !stack.isEmpty || bulkRemaining >= 0 }

    /// Decodes at most one value from the front of `input`.
    ///
    /// Returns the value (nil if it is not complete yet) and how many bytes of `input` were
    /// consumed; the caller drops those and offers the rest again, with more, later.
    public mutating func decode(_ input: UnsafeRawBufferPointer) throws(RESPDecodingError) -> (value: RESPValue?, consumed: Int) {
        var offset = 0
        while true {
            var finished: RESPValue
            if bulkRemaining >= 0 {
                let available = input.count - offset
                let payloadPart = min(available, bulkRemaining)
                if payloadPart > 0 {
                    bulk.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[offset..<(offset + payloadPart)]))
                    bulkRemaining -= payloadPart
                    offset += payloadPart
                }
                // The terminator is consumed whole or not at all.
                guard bulkRemaining == 0, input.count - offset >= 2 else { return (nil, offset) }
                guard input[offset] == 13, input[offset + 1] == 10 else { throw .missingBulkTerminator }
                offset += 2
                finished = .bulkString(bulk)
                bulk = []
                bulkRemaining = -1
            } else {
                guard offset < input.count else { return (nil, offset) }
                guard let lineEnd = try findLineEnd(input, from: offset + 1) else { return (nil, offset) }
                let type = input[offset]
                let line = UnsafeRawBufferPointer(rebasing: input[(offset + 1)..<lineEnd])
                let next = lineEnd + 2
                switch type {
                case UInt8(ascii: "+"):
                    finished = .simpleString(Array(line))
                case UInt8(ascii: "-"):
                    finished = .error(Array(line))
                case UInt8(ascii: ":"):
                    finished = .integer(try Self.parseInteger(line))
                case UInt8(ascii: "$"):
                    let length = try Self.parseInteger(line)
                    if length == -1 {
                        finished = .bulkString(nil)
                    } else if length < 0 {
                        throw .negativeLength(length)
                    } else if length > Int64(limits.maxBulkLength) {
                        throw .bulkTooLong(length: length, limit: limits.maxBulkLength)
                    } else {
                        offset = next
                        bulkRemaining = Int(length)
                        // Reserve what is here now at most: a header alone cannot make us allocate.
                        bulk = []
                        bulk.reserveCapacity(min(Int(length), input.count - offset))
                        continue
                    }
                case UInt8(ascii: "*"):
                    let length = try Self.parseInteger(line)
                    if length == -1 {
                        finished = .array(nil)
                    } else if length < 0 {
                        throw .negativeLength(length)
                    } else if length > Int64(limits.maxArrayLength) {
                        throw .arrayTooLong(length: length, limit: limits.maxArrayLength)
                    } else if length == 0 {
                        finished = .array([])
                    } else {
                        guard stack.count < limits.maxDepth else { throw .nestingTooDeep(limit: limits.maxDepth) }
                        var elements: [RESPValue] = []
                        // Each element takes at least 3 bytes, so reserve for what is here now.
                        elements.reserveCapacity(min(Int(length), (input.count - next) / 3 + 1))
                        stack.append(PartialArray(remaining: Int(length), elements: elements))
                        offset = next
                        continue
                    }
                default:
                    throw .unknownType(type)
                }
                offset = next
            }
            // A finished value completes the arrays it closes; a top-level one is returned.
            while var top = stack.popLast() {
                top.elements.append(finished)
                top.remaining -= 1
                if top.remaining > 0 {
                    stack.append(top)
                    break
                }
                finished = .array(top.elements)
            }
            if stack.isEmpty { return (finished, offset) }
        }
    }

    /// The index of the CR of the line starting at `start`, nil if its CRLF has not arrived.
    private func findLineEnd(_ input: UnsafeRawBufferPointer, from start: Int) throws(RESPDecodingError) -> Int? {
        let limitEnd = min(input.count, start + limits.maxLineLength + 1)
        var index = start
        while index < limitEnd {
            if input[index] == 13 {
                guard index + 1 < input.count else { return nil }
                guard input[index + 1] == 10 else { throw .malformedLineEnd }
                return index
            }
            if input[index] == 10 { throw .malformedLineEnd }
            index += 1
        }
        if input.count - start > limits.maxLineLength { throw .lineTooLong(limit: limits.maxLineLength) }
        return nil
    }

    /// Parses `-?[0-9]+` within Int64 (RESP integers and lengths).
    static func parseInteger(_ line: UnsafeRawBufferPointer) throws(RESPDecodingError) -> Int64 {
        var index = 0
        var negative = false
        if line.first == UInt8(ascii: "-") {
            negative = true
            index = 1
        }
        guard index < line.count, line.count - index <= 19 else { throw .invalidInteger }
        var magnitude: UInt64 = 0
        while index < line.count {
            let digit = line[index] &- UInt8(ascii: "0")
            guard digit < 10 else { throw .invalidInteger }
            magnitude = magnitude * 10 + UInt64(digit)  // 19 digits fit in UInt64
            index += 1
        }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { throw .invalidInteger }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { throw .invalidInteger }
        return Int64(magnitude)
    }
}
