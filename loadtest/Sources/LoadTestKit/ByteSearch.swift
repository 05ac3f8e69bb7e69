import Glibc

/// Byte-level helpers for reading a few fields out of a message without decoding it.
enum ByteSearch {
    /// Whether `bytes` starts with `prefix`.
    static func hasPrefix(_ bytes: UnsafeRawBufferPointer, _ prefix: [UInt8]) -> Bool {
        matches(prefix, in: bytes, at: 0)
    }

    /// Whether `needle` occurs in `bytes` at `offset`.
    static func matches(_ needle: [UInt8], in bytes: UnsafeRawBufferPointer, at offset: Int) -> Bool {
        guard offset >= 0, bytes.count - offset >= needle.count, let base = bytes.baseAddress else { return false }
        return needle.withUnsafeBytes { needleBytes in
            guard let needleBase = needleBytes.baseAddress else { return true }
            return memcmp(base + offset, needleBase, needle.count) == 0
        }
    }

    /// The offset of the first occurrence of `needle` at or after `start`, or nil. Uses `memchr`
    /// to skip to candidates for the first byte.
    static func find(_ needle: [UInt8], in bytes: UnsafeRawBufferPointer, from start: Int = 0) -> Int? {
        guard let first = needle.first, let base = bytes.baseAddress else { return nil }
        var index = max(start, 0)
        while bytes.count - index >= needle.count {
            guard let hit = memchr(base + index, Int32(first), bytes.count - index) else { return nil }
            let offset = UnsafeRawPointer(hit) - base
            if matches(needle, in: bytes, at: offset) { return offset }
            index = offset + 1
        }
        return nil
    }

    /// Reads an unsigned decimal number of 1 to 19 digits at `index` and moves `index` past it;
    /// nil (index unchanged) when there is no digit or the number is too long.
    static func decimal(_ bytes: UnsafeRawBufferPointer, at index: inout Int) -> UInt64? {
        var cursor = index
        var value: UInt64 = 0
        while cursor < bytes.count, cursor - index < 19 {
            let byte = bytes[cursor]
            guard byte >= 48 && byte <= 57 else { break }
            value = value * 10 + UInt64(byte - 48)
            cursor += 1
        }
        guard cursor > index else { return nil }
        if cursor < bytes.count, bytes[cursor] >= 48 && bytes[cursor] <= 57 { return nil }
        index = cursor
        return value
    }
}
