import SeededRandom
import Testing

@testable import Redis

/// Decodes every value in `bytes` fed in pieces of `split` bytes, keeping unconsumed bytes as
/// the Reactor does (offered again with the next piece appended).
func decodeAll(_ bytes: [UInt8], split: Int, limits: RESPDecoder.Limits = .init()) throws -> [RESPValue] {
    var decoder = RESPDecoder(limits: limits)
    var values: [RESPValue] = []
    var kept: [UInt8] = []
    var offset = 0
    while offset < bytes.count {
        let end = min(bytes.count, offset + max(split, 1))
        kept.append(contentsOf: bytes[offset..<end])
        offset = end
        while true {
            let step = try kept.withUnsafeBytes { try decoder.decode($0) }
            kept.removeFirst(step.consumed)
            guard let value = step.value else { break }
            values.append(value)
        }
    }
    #expect(kept.isEmpty || decoder.isMidValue || !values.isEmpty)
    return values
}

/// The first error decoding `bytes` whole throws.
func decodingError(_ text: String, limits: RESPDecoder.Limits = .init()) -> RESPDecodingError? {
    do {
        _ = try decodeAll(Array(text.utf8), split: .max, limits: limits)
        return nil
    } catch let error as RESPDecodingError {
        return error
    } catch {
        return nil
    }
}

let sampleValues: [(String, RESPValue)] = [
    ("+OK\r\n", .simpleString(Array("OK".utf8))),
    ("+\r\n", .simpleString([])),
    ("-ERR unknown command\r\n", .error(Array("ERR unknown command".utf8))),
    (":0\r\n", .integer(0)),
    (":-42\r\n", .integer(-42)),
    (":9223372036854775807\r\n", .integer(.max)),
    (":-9223372036854775808\r\n", .integer(.min)),
    ("$0\r\n\r\n", .bulkString([])),
    ("$-1\r\n", .bulkString(nil)),
    ("$5\r\na\r\nb\0\r\n", .bulkString([97, 13, 10, 98, 0])),
    ("*-1\r\n", .array(nil)),
    ("*0\r\n", .array([])),
    ("*2\r\n$3\r\nfoo\r\n:7\r\n", .array([.bulkString(Array("foo".utf8)), .integer(7)])),
    (
        "*2\r\n*1\r\n*2\r\n$2\r\nid\r\n*0\r\n$-1\r\n",
        .array([.array([.array([.bulkString(Array("id".utf8)), .array([])])]), .bulkString(nil)])
    ),
]

@Suite("RESP decoder: whole, byte by byte, many values, golden bytes")
struct RESPDecoderTests {
    @Test func everySampleDecodesWholeAndOneByteAtATime() throws {
        for (text, expected) in sampleValues {
            #expect(try decodeAll(Array(text.utf8), split: .max) == [expected], "\(text.debugDescription)")
            #expect(try decodeAll(Array(text.utf8), split: 1) == [expected], "\(text.debugDescription)")
        }
    }

    @Test func manyValuesInOneBufferDecodeInOrderAtEverySplit() throws {
        let all = sampleValues.flatMap { Array($0.0.utf8) }
        let expected = sampleValues.map(\.1)
        for split in [1, 2, 3, 7, 16, 64, all.count] {
            #expect(try decodeAll(all, split: split) == expected, "split \(split)")
        }
    }

    @Test func anIncompleteValueConsumesItsFinishedPartsAndReturnsNothing() throws {
        var decoder = RESPDecoder()
        let first = Array("*2\r\n$3\r\nfoo\r\n$10\r\nabc".utf8)
        let step = try first.withUnsafeBytes { try decoder.decode($0) }
        #expect(step.value == nil)
        #expect(step.consumed == first.count)  // header, the first element and 3 payload bytes
        #expect(decoder.isMidValue)
        let rest = Array("defghij\r\n".utf8)
        let done = try rest.withUnsafeBytes { try decoder.decode($0) }
        #expect(done.value == .array([.bulkString(Array("foo".utf8)), .bulkString(Array("abcdefghij".utf8))]))
        #expect(done.consumed == rest.count)
        #expect(!decoder.isMidValue)
    }

    @Test func anIncompleteHeaderLineIsNotConsumed() throws {
        var decoder = RESPDecoder()
        let partial = Array("$12".utf8)
        let step = try partial.withUnsafeBytes { try decoder.decode($0) }
        #expect(step.value == nil && step.consumed == 0)
        let crOnly = Array(":12\r".utf8)
        let second = try crOnly.withUnsafeBytes { try decoder.decode($0) }
        #expect(second.value == nil && second.consumed == 0)
    }

    @Test func encoderOutputRoundTripsForRandomValues() throws {
        var generator = SeededGenerator(seed: 15)
        func randomValue(depth: Int) -> RESPValue {
            switch Int.random(in: 0..<(depth < 3 ? 7 : 5), using: &generator) {
            case 0:
                return .simpleString(
                    (0..<Int.random(in: 0..<8, using: &generator)).map { _ in UInt8.random(in: 32...126, using: &generator) })
            case 1: return .error(Array("ERR x".utf8))
            case 2: return .integer(Int64.random(in: .min ... .max, using: &generator))
            case 3:
                return .bulkString(
                    (0..<Int.random(in: 0..<40, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) })
            case 4: return .bulkString(nil)
            case 5: return .array((0..<Int.random(in: 0..<5, using: &generator)).map { _ in randomValue(depth: depth + 1) })
            default: return .array(nil)
            }
        }
        let values = (0..<200).map { _ in randomValue(depth: 0) }
        var bytes: [UInt8] = []
        for value in values { RESPEncoder.append(value, to: &bytes) }
        #expect(try decodeAll(bytes, split: 5) == values)
        #expect(try decodeAll(bytes, split: .max) == values)
    }
}

@Suite("RESP decoder: every error, and the bounds")
struct RESPDecoderErrorTests {
    @Test func malformedInputIsATypedErrorNeverATrap() {
        #expect(decodingError("?x\r\n") == .unknownType(UInt8(ascii: "?")))
        #expect(decodingError("%1\r\n") == .unknownType(UInt8(ascii: "%")))  // RESP3 map
        #expect(decodingError("+OK\rX") == .malformedLineEnd)
        #expect(decodingError("+O\nK\r\n") == .malformedLineEnd)
        #expect(decodingError(":\r\n") == .invalidInteger)
        #expect(decodingError(":-\r\n") == .invalidInteger)
        #expect(decodingError(":+1\r\n") == .invalidInteger)
        #expect(decodingError(":1a\r\n") == .invalidInteger)
        #expect(decodingError(":9223372036854775808\r\n") == .invalidInteger)
        #expect(decodingError(":-9223372036854775809\r\n") == .invalidInteger)
        #expect(decodingError(":99999999999999999999\r\n") == .invalidInteger)
        #expect(decodingError("$-2\r\n") == .negativeLength(-2))
        #expect(decodingError("*-5\r\n") == .negativeLength(-5))
        #expect(decodingError("$3\r\nabcde") == .missingBulkTerminator)
        #expect(decodingError("$ 3\r\nabc\r\n") == .invalidInteger)
    }

    @Test func boundsAreCheckedFromTheHeaderBeforeAllocating() {
        #expect(decodingError("$536870913\r\n") == .bulkTooLong(length: 536_870_913, limit: 512 << 20))
        #expect(decodingError("$9223372036854775807\r\n") == .bulkTooLong(length: .max, limit: 512 << 20))
        let small = RESPDecoder.Limits(maxBulkLength: 4, maxArrayLength: 2, maxDepth: 2, maxLineLength: 8)
        #expect(decodingError("$5\r\nabcde\r\n", limits: small) == .bulkTooLong(length: 5, limit: 4))
        #expect(decodingError("$4\r\nabcd\r\n", limits: small) == nil)
        #expect(decodingError("*3\r\n", limits: small) == .arrayTooLong(length: 3, limit: 2))
        #expect(decodingError("*1\r\n*1\r\n*1\r\n:1\r\n", limits: small) == .nestingTooDeep(limit: 2))
        #expect(decodingError("*1\r\n*1\r\n:1\r\n", limits: small) == nil)
        #expect(decodingError("+123456789\r\n", limits: small) == .lineTooLong(limit: 8))
        #expect(decodingError("+12345678\r\n", limits: small) == nil)
        // A line longer than the bound is refused before its end arrives.
        #expect(decodingError("+123456789", limits: small) == .lineTooLong(limit: 8))
    }

    @Test func aHugeDeclaredArrayDoesNotReserveItsLength() throws {
        var decoder = RESPDecoder()
        let header = Array("*16777216\r\n".utf8)
        let step = try header.withUnsafeBytes { try decoder.decode($0) }
        #expect(step.value == nil && step.consumed == header.count)
    }
}
