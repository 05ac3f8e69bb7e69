import SeededRandom
import Testing

@testable import Basics

@Suite("RFC 3629 / Unicode §3.9 UTF-8 validation")
struct UTF8ValidatorTests {
    /// The stdlib's verdict on a complete text.
    static func stdlibAccepts(_ bytes: [UInt8]) -> Bool {
        String(validating: bytes, as: UTF8.self) != nil
    }

    /// Whether some continuation makes `prefix` valid: the reference for fail-fast.
    static func canContinue(_ prefix: [UInt8]) -> Bool {
        if stdlibAccepts(prefix) { return true }
        let candidates: [UInt8] = [0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF]
        var tails: [[UInt8]] = [[]]
        for _ in 0..<3 {
            tails = tails.flatMap { tail in candidates.map { tail + [$0] } }
            if tails.contains(where: { stdlibAccepts(prefix + $0) }) { return true }
        }
        return false
    }

    static func validate(_ bytes: [UInt8]) -> Bool {
        var validator = UTF8Validator()
        return validator.feed(bytes) && validator.isAtBoundary
    }

    /// The index of the byte at which byte-by-byte feeding fails, or nil.
    static func failureIndex(_ bytes: [UInt8]) -> Int? {
        var validator = UTF8Validator()
        for (index, byte) in bytes.enumerated() where !validator.feed([byte]) {
            return index
        }
        return nil
    }

    @Test(
        "edge cases agree with the stdlib",
        arguments: [
            [], [0x00], [0x7F], [0xC2, 0x80], [0xDF, 0xBF], [0xE0, 0xA0, 0x80], [0xEF, 0xBF, 0xBF], [0xED, 0x9F, 0xBF],
            [0xEE, 0x80, 0x80], [0xF0, 0x90, 0x80, 0x80], [0xF4, 0x8F, 0xBF, 0xBF], [0xF3, 0xBF, 0xBF, 0xBF],
            Array("κόσμε".utf8),
            // Overlong forms.
            [0xC0, 0x80], [0xC1, 0xBF], [0xE0, 0x80, 0x80], [0xE0, 0x9F, 0xBF], [0xF0, 0x80, 0x80, 0x80], [0xF0, 0x8F, 0xBF, 0xBF],
            [0xC0, 0xAF], [0xE0, 0x80, 0xAF], [0xF8, 0x80, 0x80, 0x80, 0xAF],
            // Surrogates.
            [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF], [0xED, 0xA0, 0x80, 0xED, 0xB0, 0x80],
            // Above U+10FFFF.
            [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xF7, 0xBF, 0xBF, 0xBF], [0xFE], [0xFF],
            // Truncated and stray continuations.
            [0xC2], [0xE2, 0x82], [0xF0, 0x9F, 0x98], [0x80], [0xBF], [0x61, 0x80, 0x62], [0xE2, 0x28, 0xA1],
            [0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0xC3],
        ] as [[UInt8]])
    func edgeCases(bytes: [UInt8]) {
        #expect(Self.validate(bytes) == Self.stdlibAccepts(bytes))
        let failedAt = Self.failureIndex(bytes)
        let expected = (0..<bytes.count).first { !Self.canContinue(Array(bytes[...$0])) }
        #expect(failedAt == expected, "fail-fast position")
    }

    @Test("fails at the first byte that cannot continue valid UTF-8 (Autobahn 6.4)")
    func failFastPositions() {
        let kosme: [UInt8] = [0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCF, 0x83, 0xCE, 0xBC, 0xCE, 0xB5]
        #expect(Self.failureIndex(kosme + [0xF4, 0x90, 0x80, 0x80] + Array("edited".utf8)) == 12)
        #expect(Self.failureIndex(kosme + [0xED, 0xA0, 0x80]) == 12)
        #expect(Self.failureIndex(kosme + [0xC0]) == 11)
        #expect(Self.failureIndex(kosme + [0xE0, 0x9F]) == 12)
        #expect(Self.failureIndex(kosme + [0xF0, 0x8F]) == 12)
    }

    @Test("random inputs agree with the stdlib, whole and in random splits")
    func randomInputs() {
        var generator = SeededGenerator(seed: 3629)
        let interesting: [UInt8] = [
            0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1,
            0xF3, 0xF4, 0xF5, 0xFF,
        ]
        for round in 0..<20_000 {
            let length = Int.random(in: 0...24, using: &generator)
            var bytes = (0..<length).map { _ in interesting.randomElement(using: &generator) ?? 0 }
            if round % 2 == 0 {
                // Mostly valid text with one random byte changed.
                bytes = Array("aé€𝄞 b".utf8) + bytes.prefix(2)
            }
            let expected = Self.stdlibAccepts(bytes)
            #expect(Self.validate(bytes) == expected, "\(bytes)")
            let split = Int.random(in: 0...bytes.count, using: &generator)
            var validator = UTF8Validator()
            let whole = validator.feed(Array(bytes[..<split])) && validator.feed(Array(bytes[split...])) && validator.isAtBoundary
            #expect(whole == expected, "\(bytes) split at \(split)")
        }
    }

    @Test("random valid text of every scalar width, with the ASCII fast path and tails of every length")
    func validText() {
        var generator = SeededGenerator(seed: 10_646)
        for _ in 0..<2_000 {
            var text = ""
            for _ in 0..<Int.random(in: 0...40, using: &generator) {
                let range: ClosedRange<UInt32> =
                    [0x20...0x7E, 0x80...0x7FF, 0x800...0xD7FF, 0xE000...0xFFFF, 0x10000...0x10FFFF]
                    .randomElement(using: &generator) ?? 0x41...0x41
                text.unicodeScalars.append(Unicode.Scalar(UInt32.random(in: range, using: &generator)) ?? "a")
            }
            #expect(Self.validate(Array(text.utf8)))
        }
    }

    @Test("a failed validator stays failed")
    func sticky() {
        var validator = UTF8Validator()
        let first = validator.feed([0xFF])
        #expect(!first)
        #expect(validator.hasFailed)
        let second = validator.feed([0x41])
        #expect(!second)
        #expect(!validator.isAtBoundary)
    }
}

@Suite("UTF8Validator.isValid, the whole-text form")
struct UTF8WholeTextTests {
    @Test("a bad byte at any position of a long ASCII run is found (the 8- and 16-byte skips)")
    func badByteInASCIIRun() {
        for position in 0..<70 {
            var bytes = [UInt8](repeating: 0x61, count: 70)
            bytes[position] = 0xFF
            #expect(!bytes.withUnsafeBytes { UTF8Validator.isValid($0) }, "0xFF at \(position)")
            var validator = UTF8Validator()
            #expect(!validator.feed(bytes) && validator.hasFailed)
            bytes[position] = 0xC3  // a lead byte: valid only with a continuation after it
            #expect(bytes.withUnsafeBytes { UTF8Validator.isValid($0) } == false, "C3 at \(position)")
        }
    }

    @Test("agrees with the stdlib on random mixes of valid and invalid bytes")
    func agreesWithStdlib() {
        var generator = SeededGenerator(seed: 3629)
        let pieces: [[UInt8]] = [
            [0x61], Array("é".utf8), Array("€".utf8), Array("😀".utf8), [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80],
            [0x80], [0xE2, 0x82], Array("abcdefghij".utf8),
        ]
        for _ in 0..<2_000 {
            var bytes: [UInt8] = []
            for _ in 0..<Int.random(in: 0..<8, using: &generator) {
                bytes += pieces[Int.random(in: 0..<pieces.count, using: &generator)]
            }
            let expected = String(validating: bytes, as: UTF8.self) != nil
            #expect(bytes.withUnsafeBytes { UTF8Validator.isValid($0) } == expected, "\(bytes)")
        }
    }
}
