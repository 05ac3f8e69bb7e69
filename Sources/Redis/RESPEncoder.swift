/// Writes RESP2: commands as arrays of bulk strings, appended to the caller's buffer.
///
/// Redis accepts every command as "a RESP Array consisting of only Bulk Strings" (RESP spec,
/// "Sending commands to a Redis server"); appending lets a pipeline of commands share one buffer
/// and so one `write`.
public enum RESPEncoder {
    private static let crlf: [UInt8] = [13, 10]

    /// Appends `command` (name and arguments, each binary-safe) as an array of bulk strings.
    public static func appendCommand(_ command: [[UInt8]], to buffer: inout [UInt8]) {
        var size = 16
        for argument in command { size += argument.count + 16 }
        buffer.reserveCapacity(buffer.count + size)
        appendHeader(UInt8(ascii: "*"), command.count, to: &buffer)
        for argument in command {
            appendHeader(UInt8(ascii: "$"), argument.count, to: &buffer)
            buffer.append(contentsOf: argument)
            buffer.append(contentsOf: crlf)
        }
    }

    /// The bytes of one command.
    public static func command(_ command: [[UInt8]]) -> [UInt8] {
        var buffer: [UInt8] = []
        appendCommand(command, to: &buffer)
        return buffer
    }

    /// Appends any value in its canonical encoding (for tests, the fuzz target and fake servers).
    public static func append(_ value: RESPValue, to buffer: inout [UInt8]) {
        switch value {
        case .simpleString(let bytes):
            buffer.append(UInt8(ascii: "+"))
            buffer.append(contentsOf: bytes)
            buffer.append(contentsOf: crlf)
        case .error(let bytes):
            buffer.append(UInt8(ascii: "-"))
            buffer.append(contentsOf: bytes)
            buffer.append(contentsOf: crlf)
        case .integer(let integer):
            buffer.append(UInt8(ascii: ":"))
            appendDecimal(integer, to: &buffer)
            buffer.append(contentsOf: crlf)
        case .bulkString(nil):
            appendHeader(UInt8(ascii: "$"), -1, to: &buffer)
        case .bulkString(let bytes?):
            appendHeader(UInt8(ascii: "$"), bytes.count, to: &buffer)
            buffer.append(contentsOf: bytes)
            buffer.append(contentsOf: crlf)
        case .array(nil):
            appendHeader(UInt8(ascii: "*"), -1, to: &buffer)
        case .array(let elements?):
            appendHeader(UInt8(ascii: "*"), elements.count, to: &buffer)
            for element in elements { append(element, to: &buffer) }
        }
    }

    private static func appendHeader(_ type: UInt8, _ count: Int, to buffer: inout [UInt8]) {
        buffer.append(type)
        appendDecimal(Int64(count), to: &buffer)
        buffer.append(contentsOf: crlf)
    }

    /// Appends `value` in decimal, without an intermediate `String`.
    static func appendDecimal(_ value: Int64, to buffer: inout [UInt8]) {
        if value < 0 { buffer.append(UInt8(ascii: "-")) }
        // The magnitude as unsigned, so Int64.min does not overflow.
        var magnitude = value.magnitude
        if magnitude < 10 {
            buffer.append(UInt8(ascii: "0") + UInt8(magnitude))
            return
        }
        var digitCount = 0
        var probe = magnitude
        while probe > 0 {
            digitCount += 1
            probe /= 10
        }
        let start = buffer.count
        buffer.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: digitCount))
        var index = start + digitCount - 1
        while magnitude > 0 {
            buffer[index] = UInt8(ascii: "0") + UInt8(magnitude % 10)
            magnitude /= 10
            index -= 1
        }
    }
}
