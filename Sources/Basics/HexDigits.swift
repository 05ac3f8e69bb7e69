/// Fixed-width lowercase hexadecimal, the form of the epochs, instance ids and keys the server
/// creates (`{syndicast}:epoch`, the journal's epoch, `{syndicast}:idkey`, …).
public enum HexDigits {
    /// `value` as 16 lowercase hex digits, zero-padded.
    public static func word(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.utf8.count) + digits
    }

    /// 16 random lowercase hex digits (a fresh 64-bit identifier).
    public static func randomWord() -> String {
        var generator = SystemRandomNumberGenerator()
        return word(generator.next())
    }
}
