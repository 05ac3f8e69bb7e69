import Foundation
import SeededRandom
import Testing

@testable import Basics

@Suite("RFC 8259 §7 JSON string escaping (the one rule)")
struct JSONEscapingTests {
    @Test("every control character, quote and reverse solidus is escaped; the short forms are used")
    func mandatoryEscapes() {
        let all = String(decoding: (0..<0x20).map { UInt8($0) }, as: UTF8.self) + "\"\\"
        let quoted = JSONEscaping.quoted(all)
        #expect(quoted.utf8.dropFirst().dropLast().allSatisfy { $0 >= 0x20 })
        #expect(quoted.hasPrefix(#""\u0000\u0001"#))
        #expect(quoted.contains(#"\b\t\n\u000b\f\r"#))
        #expect(quoted.hasSuffix(#"\u001f\"\\""#))
    }

    @Test("U+2028 and U+2029 are escaped; other E2 sequences and non-ASCII text pass through")
    func lineSeparators() {
        #expect(JSONEscaping.quoted("a\u{2028}b\u{2029}c") == #""a\u2028b\u2029c""#)
        #expect(JSONEscaping.quoted("€ – é 😀 \u{2027}\u{202A}") == "\"€ – é 😀 \u{2027}\u{202A}\"")
        // A lone E2 at the end of the text (as in a truncated String) is copied as it is.
        #expect(JSONEscaping.quoted("x\u{2028}") == #""x\u2028""#)
    }

    @Test("the writer and the escaping agree, and a JSON parser reads back the original text")
    func roundTrip() throws {
        var generator = SeededGenerator(seed: 13)
        let alphabet: [Unicode.Scalar] = ["a", "\"", "\\", "\n", "\u{0}", "\u{1F}", "é", "\u{2028}", "\u{2029}", "😀", "/", "\u{7F}"]
        for _ in 0..<500 {
            let length = Int.random(in: 0..<24, using: &generator)
            var text = ""
            for _ in 0..<length { text.unicodeScalars.append(alphabet[Int.random(in: 0..<alphabet.count, using: &generator)]) }
            var writer = JSONWriter()
            writer.appendString(text)
            #expect(writer.string == JSONEscaping.quoted(text))
            let decoded = try JSONDecoder().decode(String.self, from: Data(writer.bytes))
            #expect(decoded == text)
        }
    }

    @Test("the writer's numbers, literals and arrays")
    func writer() {
        struct Item: JSONWritable {
            var value: Int
            func appendJSON(to writer: inout JSONWriter) {
                writer.appendRaw("{\"v\":")
                writer.appendInteger(value)
                writer.appendRaw("}")
            }
        }
        var writer = JSONWriter()
        writer.appendRaw("[")
        for value: Int64 in [0, 9, 10, -1, Int64.max, Int64.min] {
            writer.appendInteger(value)
            writer.appendRaw(",")
        }
        writer.appendBool(true)
        writer.appendRaw(",")
        writer.appendString(nil as String?)
        writer.appendRaw(",")
        writer.appendArray([Item(value: 1), Item(value: -2)])
        writer.appendRaw("]")
        #expect(
            writer.string
                == #"[0,9,10,-1,9223372036854775807,-9223372036854775808,true,null,[{"v":1},{"v":-2}]]"#)
        #expect(Item(value: 3).jsonString == #"{"v":3}"#)
    }
}
