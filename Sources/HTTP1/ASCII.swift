/// Byte classes and small helpers for the HTTP grammar (RFC 9110 §5.6, RFC 9112 §2).
///
/// Everything here works on raw bytes so the parser never builds a `String` to classify input.
enum ASCII {
    static let carriageReturn: UInt8 = 0x0D
    static let lineFeed: UInt8 = 0x0A
    static let space: UInt8 = 0x20
    static let horizontalTab: UInt8 = 0x09
    static let colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B
    static let comma: UInt8 = 0x2C
    static let equals: UInt8 = 0x3D
    static let doubleQuote: UInt8 = 0x22
    static let backslash: UInt8 = 0x5C
    static let slash: UInt8 = 0x2F
    static let questionMark: UInt8 = 0x3F
    static let percent: UInt8 = 0x25
    static let plus: UInt8 = 0x2B

    /// `tchar` from RFC 9110 §5.6.2: "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
    /// "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA, as a bit set over bytes 0–63 and 64–127.
    static let tokenMaskLow: UInt64 = 0x03ff_6cfa_0000_0000
    static let tokenMaskHigh: UInt64 = 0x57ff_ffff_c7ff_fffe

    /// Whether `byte` is a `tchar` (RFC 9110 §5.6.2).
    @inline(__always)
    static func isTokenCharacter(_ byte: UInt8) -> Bool {
        if byte < 64 { return tokenMaskLow & (1 &<< UInt64(byte)) != 0 }
        if byte < 128 { return tokenMaskHigh & (1 &<< UInt64(byte &- 64)) != 0 }
        return false
    }

    /// `field-vchar = VCHAR / obs-text` plus SP and HTAB, the bytes allowed inside a field value
    /// (RFC 9110 §5.5).
    @inline(__always)
    static func isFieldValueCharacter(_ byte: UInt8) -> Bool {
        byte >= 0x20 ? byte != 0x7F : byte == horizontalTab
    }

    /// `OWS` / `BWS` whitespace: SP or HTAB (RFC 9110 §5.6.3).
    @inline(__always)
    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == space || byte == horizontalTab
    }

    /// Lowercases an ASCII letter and leaves every other byte alone.
    @inline(__always)
    static func lowercased(_ byte: UInt8) -> UInt8 {
        (byte &- 0x41) < 26 ? byte | 0x20 : byte
    }

    /// The value of a hexadecimal digit, or nil.
    @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: return byte &- 0x30
        case 0x41...0x46: return byte &- 0x37
        case 0x61...0x66: return byte &- 0x57
        default: return nil
        }
    }

    /// Compares `bytes` to an ASCII `literal` ignoring case.
    @inline(__always)
    static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
        guard bytes.count == literal.utf8CodeUnitCount else { return false }
        let literalBytes = literal.utf8Start
        for index in 0..<bytes.count where lowercased(bytes[index]) != lowercased(literalBytes[index]) {
            return false
        }
        return true
    }

    /// Compares two strings' UTF-8 bytes ignoring ASCII case.
    static func equalsIgnoringCase(_ left: String, _ right: String) -> Bool {
        // `utf8.count` is O(1) for native strings: most header-name comparisons end here.
        guard left.utf8.count == right.utf8.count else { return false }
        // Contiguous storage (every native string): compare bytes directly, exact match first.
        if let equal = left.utf8.withContiguousStorageIfAvailable({ leftBytes in
            right.utf8.withContiguousStorageIfAvailable { rightBytes in
                for index in 0..<leftBytes.count where leftBytes[index] != rightBytes[index] {
                    guard lowercased(leftBytes[index]) == lowercased(rightBytes[index]) else { return false }
                }
                return true
            }
        }), let equal {
            return equal
        }
        var leftIterator = left.utf8.makeIterator()
        var rightIterator = right.utf8.makeIterator()
        while true {
            switch (leftIterator.next(), rightIterator.next()) {
            case (nil, nil): return true
            case let (leftByte?, rightByte?) where lowercased(leftByte) == lowercased(rightByte): continue
            default: return false
            }
        }
    }

    /// Removes leading and trailing SP/HTAB from `range` within `bytes`.
    @inline(__always)
    static func trimWhitespace(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Range<Int> {
        var lower = range.lowerBound
        var upper = range.upperBound
        while lower < upper, isWhitespace(bytes[lower]) { lower += 1 }
        while upper > lower, isWhitespace(bytes[upper - 1]) { upper -= 1 }
        return lower..<upper
    }
}

extension ASCII {
    /// Compares `bytes` to an ASCII literal exactly (case-sensitive).
    @inline(__always)
    static func equals(_ bytes: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
        guard bytes.count == literal.utf8CodeUnitCount else { return false }
        let literalBytes = literal.utf8Start
        for index in 0..<bytes.count where bytes[index] != literalBytes[index] {
            return false
        }
        return true
    }
}

extension ASCII {
    /// Whether every byte of `bytes[range]` is allowed in a field value (HTAB, SP–`~`,
    /// obs-text; RFC 9110 §5.5), checking eight bytes per step.
    ///
    /// A word passes when it has no byte below 0x20 and no 0x7F (the classic `hasless` and
    /// `haszero` bit tricks, exact for "is there any such byte"); only words that might hold an
    /// HTAB or a bad byte are checked byte by byte.
    static func allFieldValueCharacters(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        guard let base = bytes.baseAddress else { return range.isEmpty }
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highBits: UInt64 = 0x8080_8080_8080_8080
        var index = range.lowerBound
        let end = range.upperBound
        while end - index >= 8 {
            let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: index, as: UInt64.self))
            let hasControl = (word &- ones &* 0x20) & ~word & highBits
            let delete = word ^ (ones &* 0x7F)
            let hasDelete = (delete &- ones) & ~delete & highBits
            if hasControl | hasDelete != 0 {
                for position in index..<(index + 8) where !isFieldValueCharacter(bytes[position]) { return false }
            }
            index += 8
        }
        while index < end {
            if !isFieldValueCharacter(bytes[index]) { return false }
            index += 1
        }
        return true
    }

    /// `uri-host [ ":" port ]` characters (RFC 9110 §7.2, RFC 3986 §3.2.2): unreserved,
    /// pct-encoded, sub-delims, ":", "[" and "]", as a bit set over bytes 0–63 and 64–127.
    static let hostMaskLow: UInt64 = 0x2fff_7ff2_0000_0000
    static let hostMaskHigh: UInt64 = 0x47ff_fffe_afff_fffe

    /// Whether `byte` may appear in a Host field value.
    @inline(__always)
    static func isHostCharacter(_ byte: UInt8) -> Bool {
        if byte < 64 { return hostMaskLow & (1 &<< UInt64(byte)) != 0 }
        if byte < 128 { return hostMaskHigh & (1 &<< UInt64(byte &- 64)) != 0 }
        return false
    }
}
