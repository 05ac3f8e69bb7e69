/// The identity rule for investor, syndicate and transaction ids: their UTF-8 bytes.
///
/// Two ids are the same id exactly when their bytes are equal, and ids are ordered by their
/// bytes (for UTF-8 that is code point order). Nothing is normalised: NFC `"é"` (C3 A9) and NFD
/// `"e\u{301}"` (65 CC 81) are two ids. Swift's `String` `==` and `<` use canonical equivalence
/// instead, which disagreed with the tables that key ids by a hash of their bytes
/// (``IdentifierTable``, the broker's idempotency digests), so ids are never compared with them
/// (docs/DOMAIN-RULES.md).
extension String {
    /// Whether `self` and `other` have the same UTF-8 bytes.
    @inline(__always)
    public func hasSameUTF8(as other: String) -> Bool {
        withUTF8Bytes { left in other.withUTF8Bytes { right in ByteIdentity.equal(left, right) } }
    }

    /// Whether `self` comes before `other` in UTF-8 byte order (code point order).
    @inline(__always)
    public func utf8Precedes(_ other: String) -> Bool {
        withUTF8Bytes { left in other.withUTF8Bytes { right in ByteIdentity.precedes(left, right) } }
    }
}

/// An id as a dictionary key or set member whose `==` and hash are those of its UTF-8 bytes.
public struct IdentifierBytes: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The id.
    public let string: String

    /// Wraps an id.
    public init(_ string: String) {
        self.string = string
    }

    /// Byte equality (``Swift/String/hasSameUTF8(as:)``).
    public static func == (lhs: IdentifierBytes, rhs: IdentifierBytes) -> Bool {
        lhs.string.hasSameUTF8(as: rhs.string)
    }

    /// Byte order (``Swift/String/utf8Precedes(_:)``).
    public static func < (lhs: IdentifierBytes, rhs: IdentifierBytes) -> Bool {
        lhs.string.utf8Precedes(rhs.string)
    }

    /// Hashes the bytes (a `String` hashes its normalised form).
    public func hash(into hasher: inout Hasher) {
        string.withUTF8Bytes { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }

    /// The id itself.
    public var description: String { string }
}

/// Byte comparisons eight bytes at a time (ids are at most 128 bytes; the module imports no libc).
enum ByteIdentity {
    @inline(__always)
    static func equal(_ left: UnsafeBufferPointer<UInt8>, _ right: UnsafeBufferPointer<UInt8>) -> Bool {
        guard left.count == right.count else { return false }
        return firstDifference(UnsafeRawBufferPointer(left), UnsafeRawBufferPointer(right), count: left.count) == nil
    }

    @inline(__always)
    static func precedes(_ left: UnsafeBufferPointer<UInt8>, _ right: UnsafeBufferPointer<UInt8>) -> Bool {
        let common = min(left.count, right.count)
        let leftBytes = UnsafeRawBufferPointer(left)
        let rightBytes = UnsafeRawBufferPointer(right)
        guard let offset = firstDifference(leftBytes, rightBytes, count: common) else { return left.count < right.count }
        return leftBytes[offset] < rightBytes[offset]
    }

    /// The first offset below `count` where the bytes differ, or `nil`.
    @inline(__always)
    private static func firstDifference(
        _ left: UnsafeRawBufferPointer, _ right: UnsafeRawBufferPointer, count: Int
    ) -> Int? {
        var offset = 0
        while offset + 8 <= count {
            let difference =
                left.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                ^ right.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            if difference != 0 { return offset + UInt64(littleEndian: difference).trailingZeroBitCount / 8 }
            offset += 8
        }
        while offset < count {
            if left[offset] != right[offset] { return offset }
            offset += 1
        }
        return nil
    }
}
