import Testing

@testable import Redis

@Suite("RESP encoder: golden bytes")
struct RESPEncoderTests {
    @Test func aCommandIsAnArrayOfBulkStrings() {
        let bytes = RESPEncoder.command(RedisClient.command("SET", "key", "value"))
        #expect(bytes == Array("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n".utf8))
    }

    @Test func argumentsAreBinarySafe() {
        let bytes = RESPEncoder.command([Array("ECHO".utf8), [0, 13, 10, 255], []])
        #expect(bytes == Array("*3\r\n$4\r\nECHO\r\n$4\r\n".utf8) + [0, 13, 10, 255] + Array("\r\n$0\r\n\r\n".utf8))
    }

    @Test func commandsAppendToTheCallersBuffer() {
        var buffer = Array("prefix".utf8)
        RESPEncoder.appendCommand(RedisClient.command("PING"), to: &buffer)
        RESPEncoder.appendCommand(RedisClient.command("PING"), to: &buffer)
        #expect(buffer == Array("prefix*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n".utf8))
    }

    @Test func valuesHaveTheirCanonicalEncoding() {
        for (text, value) in sampleValues {
            var bytes: [UInt8] = []
            RESPEncoder.append(value, to: &bytes)
            #expect(bytes == Array(text.utf8), "\(text.debugDescription)")
        }
    }

    @Test func decimalsCoverTheWholeRange() {
        for value: Int64 in [0, 9, 10, 99, 100, -1, -10, 1_234_567_890, .max, .min] {
            var bytes: [UInt8] = []
            RESPEncoder.appendDecimal(value, to: &bytes)
            #expect(bytes == Array(String(value).utf8))
        }
    }

    @Test func aScriptsSHA1IsRedissHexDigest() {
        // SHA-1("return 1"), as `redis-cli SCRIPT LOAD "return 1"` prints it.
        #expect(RedisScript("return 1").sha1Text == "e0e1f9fabfc9d4800c877a703b823ac0578ff8db")
    }
}
