import Basics
import Testing

@Suite("Hex digits: 16 lowercase digits, zero-padded")
struct HexDigitsTests {
    @Test func wordsAreZeroPaddedLowercase() {
        #expect(HexDigits.word(0) == "0000000000000000")
        #expect(HexDigits.word(0xAB) == "00000000000000ab")
        #expect(HexDigits.word(.max) == "ffffffffffffffff")
    }

    @Test func randomWordsAreSixteenHexDigitsAndDiffer() {
        let words = (0..<16).map { _ in HexDigits.randomWord() }
        #expect(words.allSatisfy { $0.utf8.count == 16 && $0.allSatisfy(\.isHexDigit) && $0 == $0.lowercased() })
        #expect(Set(words).count == words.count)
    }
}
