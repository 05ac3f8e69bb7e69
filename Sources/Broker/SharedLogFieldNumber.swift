/// The numbers of a stream entry's text fields (the skip list `s`, the spike decisions `k`):
/// ASCII decimal, at most 9 digits (no request holds a billion transactions), nothing else.
enum SharedLogFieldNumber {
    /// The value of `digits`, or nil if they are empty, longer than 9 or not all decimal digits.
    static func parse(_ digits: some Collection<UInt8>) -> Int? {
        guard !digits.isEmpty, digits.count <= 9 else { return nil }
        var value = 0
        for digit in digits {
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(digit - UInt8(ascii: "0"))
        }
        return value
    }
}
