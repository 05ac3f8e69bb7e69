/// Strict UTF-8 validation (RFC 3629 §4): no overlong forms, no surrogates, nothing above U+10FFFF.
enum UTF8Validation {
    /// Whether `buffer[start..<end]` is well-formed UTF-8.
    static func isValid(_ buffer: UnsafeRawBufferPointer, from start: Int, to end: Int) -> Bool {
        var index = start
        while index < end {
            let lead = buffer[index]
            if lead < 0x80 {
                index += 1
                continue
            }
            // RFC 3629 §4 syntax: the allowed range of the second byte depends on the first.
            let length: Int
            var secondLow: UInt8 = 0x80
            var secondHigh: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0:
                length = 3
                secondLow = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED:
                length = 3
                secondHigh = 0x9F
            case 0xF0:
                length = 4
                secondLow = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4:
                length = 4
                secondHigh = 0x8F
            default: return false
            }
            guard index + length <= end else { return false }
            let second = buffer[index + 1]
            guard second >= secondLow, second <= secondHigh else { return false }
            for offset in 2..<length where buffer[index + offset] & 0xC0 != 0x80 {
                return false
            }
            index += length
        }
        return true
    }
}
