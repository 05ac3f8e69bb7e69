import SeededRandom
import Testing

@testable import Journal

@Suite("JournalPayloadCodec: damaged payloads are errors, never traps")
struct JournalPayloadCodecDamageTests {
    /// The first error message decoding `bytes` produces, or `nil` if it decodes.
    func failure(_ bytes: [UInt8]) -> String? {
        do {
            _ = try JournalPayloadCodec.decode(bytes)
            return nil
        } catch {
            return error.message
        }
    }

    @Test("every proper prefix of a valid payload is rejected")
    func everyTruncation() {
        let bytes = JournalPayloadCodecTests.goldenBytes
        for length in 0..<bytes.count {
            #expect(failure(Array(bytes[0..<length])) != nil, "prefix of \(length) bytes decoded")
        }
    }

    @Test("every proper prefix of a random payload is rejected")
    func everyTruncationOfRandomPayload() {
        var generator = SeededGenerator(seed: 42)
        let entries = (0..<6).map { _ in randomEntry(&generator) }
        let bytes = JournalPayloadCodec.encode(entries)
        var decodedPrefixes = 0
        for length in 0..<bytes.count where failure(Array(bytes[0..<length])) == nil {
            decodedPrefixes += 1
        }
        #expect(decodedPrefixes == 0)
    }

    @Test("a byte after the last entry is rejected")
    func trailingBytes() {
        #expect(failure(JournalPayloadCodecTests.goldenBytes + [0x00])?.contains("after the last entry") == true)
    }

    @Test("an unknown format version is rejected")
    func unknownVersion() {
        for version: UInt8 in [0, 3, 0xFF] {
            var bytes = JournalPayloadCodecTests.goldenBytes
            bytes[0] = version
            #expect(failure(bytes)?.contains("version \(version) is not supported") == true)
        }
    }

    /// A version-2 payload of one entry holding two transactions with ids `first` and the bytes
    /// `second` (prefix, suffix, middle length, middle).
    func twoIdentifiers(_ first: String, _ second: [UInt8]) -> [UInt8] {
        let rest: [UInt8] = [0x01, 0x69, 0x01, 0x73, 0x02, 0x00]
        return [0x02, 0x01, 0x01, 0x02, 0x01, 0x00, 0x00, UInt8(first.utf8.count)] + Array(first.utf8) + rest
            + [0x01] + second + rest
    }

    @Test("shared id ends that overrun the previous id or are not the longest are rejected")
    func sharedEnds() throws {
        // "abcd" then "abXd": prefix 2, suffix 1, middle "X".
        let valid = twoIdentifiers("abcd", [0x02, 0x01, 0x01, 0x58])
        #expect(failure(valid) == nil)
        #expect(failure(twoIdentifiers("abcd", [0x04, 0x01, 0x00]))?.contains("exceed the previous id") == true)
        #expect(failure(twoIdentifiers("abcd", [0x05, 0x00, 0x00]))?.contains("exceed the previous id") == true)
        // The same id spelled with a shorter prefix or suffix than the longest: not canonical.
        #expect(failure(twoIdentifiers("abcd", [0x01, 0x01, 0x02, 0x62, 0x58]))?.contains("not the longest") == true)
        #expect(failure(twoIdentifiers("abcd", [0x02, 0x00, 0x02, 0x58, 0x64]))?.contains("not the longest") == true)
        // The first id of an entry has nothing to share.
        let firstSharing: [UInt8] = [0x02, 0x01, 0x01, 0x01, 0x01, 0x01, 0x00, 0x00, 0x01, 0x69, 0x01, 0x73, 0x02, 0x00]
        #expect(failure(firstSharing)?.contains("exceed the previous id") == true)
        // Shared bytes that split a character must still make valid UTF-8 as a whole.
        #expect(failure(twoIdentifiers("xé", [0x02, 0x00, 0x01, 0xA8])) == nil)
        #expect(failure(twoIdentifiers("xé", [0x02, 0x00, 0x01, 0x41]))?.contains("invalid UTF-8") == true)
    }

    @Test("an unknown entry tag is rejected with its offset")
    func unknownTag() {
        var bytes = JournalPayloadCodecTests.goldenBytes
        bytes[2] = 0x07
        #expect(failure(bytes)?.contains("byte 2: unknown entry tag 7") == true)
    }

    @Test("unknown transaction flags are rejected")
    func unknownFlags() {
        var bytes = JournalPayloadCodecTests.goldenBytes
        bytes[4] = 0x03
        #expect(failure(bytes)?.contains("unknown flags 3") == true)
    }

    @Test("invalid UTF-8 in a string is rejected", arguments: [[0xFF], [0xC3], [0xED, 0xA0, 0x80], [0xC0, 0xAF]] as [[UInt8]])
    func invalidUTF8(sequence: [UInt8]) {
        // version, one entry, a message whose topic is `sequence`, empty data.
        let bytes: [UInt8] = [0x01, 0x01, 0x02, UInt8(sequence.count)] + sequence + [0x00]
        #expect(failure(bytes)?.contains("invalid UTF-8") == true)
    }

    @Test("a varint longer than ten bytes or beyond 64 bits is rejected")
    func overlongVarint() {
        let eleven: [UInt8] = [0x01] + Array(repeating: 0x80, count: 10) + [0x00]
        #expect(failure(eleven) != nil)
        let overflowing: [UInt8] = [0x01] + Array(repeating: 0xFF, count: 9) + [0x02]
        #expect(failure(overflowing)?.contains("overflows 64 bits") == true)
        // Zero entries written as two bytes instead of one.
        #expect(failure([0x01, 0x80, 0x00])?.contains("shortest form") == true)
    }

    @Test("counts and lengths larger than the bytes left are rejected before allocating")
    func hugeCounts() {
        let hugeEntryCount: [UInt8] = [0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]
        #expect(failure(hugeEntryCount)?.contains("exceeds") == true)
        let hugeTransactionCount: [UInt8] = [0x01, 0x01, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F]
        #expect(failure(hugeTransactionCount)?.contains("exceeds") == true)
        let hugeDataLength: [UInt8] = [0x01, 0x01, 0x02, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F]
        #expect(failure(hugeDataLength)?.contains("exceeds") == true)
    }

    @Test("random byte damage never traps and never decodes to different entries silently")
    func randomMutations() {
        var generator = SeededGenerator(seed: 7)
        let entries = (0..<5).map { _ in randomEntry(&generator) }
        let original = JournalPayloadCodec.encode(entries)
        var rejected = 0
        for _ in 0..<3_000 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            if let decoded = try? JournalPayloadCodec.decode(bytes) {
                // A decodable mutation must re-encode to exactly the damaged bytes (the format is canonical).
                #expect(JournalPayloadCodec.encode(decoded) == bytes)
            } else {
                rejected += 1
            }
        }
        #expect(rejected > 0)
    }
}
